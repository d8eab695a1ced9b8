"""Quiz files: their settings, questions and choices, and the rules on answers."""

from pathlib import Path

from lms.core.patterns import is_slug
from lms.courses.loader.specs import ChoiceSpec, LessonSpec, QuestionSpec
from lms.courses.loader.validators import FieldChecks
from lms.courses.loader.yaml_lines import LineDict, LineList
from lms.courses.rendering import render_inline


class QuizReader(FieldChecks):
    def load_quiz(self, slug: str, path: Path, pass_mark: int) -> LessonSpec | None:
        rel = self.rel(path)
        data = self.load_yaml_file(path)
        if data is None:
            return None
        self.check_keys(
            data, rel, {"title", "questions"}, {"pass_mark", "max_attempts", "required", "minutes"}
        )
        questions = data.get("questions")
        quiz = LessonSpec(
            slug=slug,
            kind="quiz",
            title=self.text(data, "title", rel) or slug,
            minutes=self.number(data, "minutes", rel, low=1, high=600, default=None) or 0,
            is_required=self.flag(data, "required", rel),
            source_path=rel,
            pass_mark=self.number(data, "pass_mark", rel, low=0, high=100, default=pass_mark),
            max_attempts=self.number(data, "max_attempts", rel, low=1, high=100, default=None),
        )
        if not isinstance(questions, list) or not questions:
            if "questions" in data:
                self.problem(rel, data.line_of("questions"), "'questions' must be a non-empty list")
            return quiz
        seen: set[str] = set()
        for index, question in enumerate(questions):
            line = questions.lines[index] if isinstance(questions, LineList) else data.line
            spec = self.load_question(question, rel, line, seen)
            if spec:
                quiz.questions.append(spec)
        if not quiz.minutes:
            quiz.minutes = max(1, round(len(quiz.questions) * 1.5))
        return quiz

    def load_question(self, question, rel: str, line: int, seen: set) -> QuestionSpec | None:
        if not isinstance(question, LineDict):
            self.problem(rel, line, "each question is a mapping (id, type, prompt, ...)")
            return None
        before = len(self.problems)
        self.check_keys(
            question, rel, {"id", "type", "prompt", "choices", "answer", "explanation"}, set()
        )
        qid = question.get("id")
        if not is_slug(qid):
            self.problem(rel, question.line_of("id"), "question 'id' must be a slug, e.g. q1")
        elif qid in seen:
            self.problem(rel, question.line_of("id"), f"question id '{qid}' is used twice")
        else:
            seen.add(qid)
        qtype = question.get("type")
        if qtype not in ("single", "multiple"):
            self.problem(rel, question.line_of("type"), "'type' must be single or multiple")
        prompt = self.text(question, "prompt", rel, max_length=None)
        explanation = self.text(question, "explanation", rel, max_length=None)
        choices = self.load_choices(question, rel)
        answer = question.get("answer")
        answers = [answer] if isinstance(answer, str | int) else answer
        if isinstance(answers, list):
            # Choice ids may be written as numbers (id: 1); compare them as text.
            answers = [
                str(a) if isinstance(a, int) and not isinstance(a, bool) else a for a in answers
            ]
        answer_line = question.line_of("answer")
        if "answer" in question:
            if not isinstance(answers, list) or not answers:
                self.problem(rel, answer_line, "the question has no correct answer")
                answers = []
            choice_ids = {c.id for c in choices}
            for value in answers:
                if value not in choice_ids:
                    self.problem(
                        rel, answer_line, f"the answer '{value}' is not one of the choices"
                    )
            if qtype == "single" and len(answers) > 1:
                self.problem(rel, answer_line, "a single-choice question has exactly one answer")
            if len(set(answers)) != len(answers):
                self.problem(rel, answer_line, "an answer is listed twice")
        if len(self.problems) > before:
            return None
        return QuestionSpec(
            id=qid,
            type=qtype,
            prompt=prompt,
            prompt_html=render_inline(prompt),
            choices=choices,
            answer=[str(a) for a in answers],
            explanation_html=render_inline(explanation),
        )

    def load_choices(self, question: LineDict, rel: str) -> list[ChoiceSpec]:
        raw = question.get("choices")
        if "choices" not in question:
            return []
        if not isinstance(raw, list) or len(raw) < 2:
            self.problem(rel, question.line_of("choices"), "a question needs at least two choices")
            return []
        choices, seen = [], set()
        for index, choice in enumerate(raw):
            line = raw.lines[index] if isinstance(raw, LineList) else question.line
            if not isinstance(choice, LineDict):
                self.problem(rel, line, "each choice is a mapping with 'id' and 'text'")
                continue
            self.check_keys(choice, rel, {"id", "text"}, set())
            cid, text = choice.get("id"), choice.get("text")
            if isinstance(cid, int) and not isinstance(cid, bool):
                cid = str(cid)
            if not is_slug(cid):
                self.problem(rel, choice.line_of("id"), "choice 'id' must be a short slug, e.g. a")
                continue
            if cid in seen:
                self.problem(rel, choice.line_of("id"), f"choice id '{cid}' is used twice")
                continue
            if isinstance(text, bool):
                self.problem(
                    rel, choice.line_of("text"), "choice 'text' reads as yes/no: put it in quotes"
                )
                continue
            if not isinstance(text, str | int | float) or not str(text).strip():
                self.problem(rel, choice.line_of("text"), "choice 'text' must be non-empty text")
                continue
            seen.add(cid)
            choices.append(ChoiceSpec(cid, str(text).strip(), render_inline(str(text))))
        return choices
