"""Quizzes: answers checked for shape, graded on the server, attempts counted (and limited
where the quiz says so); the best score counts and passing completes the quiz lesson."""

from dataclasses import dataclass

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound, RuleViolation
from lms.core.extensions import db
from lms.courses.models import LessonKind
from lms.progress.lesson_progress import (
    LessonRef,
    ProgressResult,
    enrollment_and_lesson,
    finish_write,
    write_progress,
)
from lms.progress.models import QuizAttempt


@dataclass
class AttemptResult:
    attempt: QuizAttempt
    pass_mark: int
    attempts_left: int | None
    best_score: int
    questions: list[dict]
    progress: ProgressResult


def _check_answers(lesson: LessonRef, answers) -> dict[str, list[str]]:
    """The answers' shape and ids, per question; 422 with a message per problem."""
    if not isinstance(answers, dict):
        raise RuleViolation(
            "Send answers as an object: question id -> list of choice ids.",
            errors={"answers": ["must be an object"]},
        )
    questions = {q["id"]: q for q in lesson.questions or []}
    errors: dict[str, list[str]] = {}
    for qid in answers:
        if qid not in questions:
            errors[str(qid)] = ["no such question in this quiz"]
    for qid, question in questions.items():
        given = answers.get(qid)
        if given is None:
            errors[qid] = ["missing answer"]
            continue
        if not isinstance(given, list) or not all(isinstance(c, str) for c in given) or not given:
            errors[qid] = ["must be a non-empty list of choice ids"]
            continue
        choice_ids = {c["id"] for c in question["choices"]}
        unknown = [c for c in given if c not in choice_ids]
        if unknown:
            errors[qid] = [f"no such choice: {', '.join(unknown)}"]
        elif question["type"] == "single" and len(given) != 1:
            errors[qid] = ["choose exactly one answer"]
        elif len(set(given)) != len(given):
            errors[qid] = ["a choice is listed twice"]
    if errors:
        raise RuleViolation("Some answers are not valid.", errors={"answers": errors})
    return {qid: sorted(set(answers[qid])) for qid in questions}


def _grade(lesson: LessonRef, given: dict[str, list[str]]) -> tuple[list[dict], int]:
    """Each question's result, and the score in percent."""
    results, correct_count = [], 0
    for question in lesson.questions:
        is_correct = given[question["id"]] == sorted(question["answer"])
        correct_count += is_correct
        results.append(
            {"question": question, "given": given[question["id"]], "correct": is_correct}
        )
    questions_total = len(lesson.questions) or 1
    return results, (correct_count * 100) // questions_total


def _attempt_number(enrollment_id: int, lesson_id: int, number: int) -> QuizAttempt | None:
    return db.session.scalar(
        sa.select(QuizAttempt).where(
            QuizAttempt.enrollment_id == enrollment_id,
            QuizAttempt.lesson_id == lesson_id,
            QuizAttempt.number == number,
        )
    )


def submit_attempt(
    user: User,
    enrollment_id: int,
    lesson_slug: str,
    answers,
    *,
    attempt_number: int | None = None,
) -> AttemptResult:
    """Grade on the server; the best score counts; attempts may be limited (409 beyond).

    ``attempt_number`` is the attempt the learner's form was shown for (the pages send it).
    When that attempt exists already with the same answers, the form was sent twice (a double
    click, a reload): its result is returned and no attempt is spent."""
    enrollment, lesson = enrollment_and_lesson(user, enrollment_id, lesson_slug)
    if lesson.kind != LessonKind.QUIZ:
        raise NotFound("This lesson is not a quiz.")
    given = _check_answers(lesson, answers)
    used = db.session.scalar(
        sa.select(sa.func.count()).where(
            QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.lesson_id == lesson.id
        )
    )
    pass_mark = lesson.pass_mark if lesson.pass_mark is not None else 70
    if attempt_number is not None and 0 < attempt_number <= used:
        previous = _attempt_number(enrollment.id, lesson.id, attempt_number)
        if previous is not None and previous.answers == given:
            completed_at = previous.created_at if previous.passed else None
            progress = finish_write(enrollment, lesson, False, False, completed_at, utcnow())
            return _result(
                enrollment, lesson, previous, pass_mark, _grade(lesson, given)[0], progress
            )
    if lesson.max_attempts is not None and used >= lesson.max_attempts:
        raise Conflict(f"No attempts left: this quiz allows {lesson.max_attempts}.")
    results, score = _grade(lesson, given)
    passed = score >= pass_mark
    attempt = QuizAttempt(
        enrollment_id=enrollment.id,
        lesson_id=lesson.id,
        number=used + 1,  # unique with the enrollment and quiz: a racing twin gets 409
        answers=given,
        score=score,
        passed=passed,
    )
    db.session.add(attempt)
    db.session.flush()
    now = utcnow()
    completed_at, changed = write_progress(
        enrollment, lesson, completed=passed, time_spent=0, score=score, now=now
    )
    newly_completed = changed and passed and completed_at == now
    progress = finish_write(enrollment, lesson, True, newly_completed, completed_at, now)
    return _result(enrollment, lesson, attempt, pass_mark, results, progress)


def _result(enrollment, lesson, attempt, pass_mark, results, progress) -> AttemptResult:
    attempts_left = None if lesson.max_attempts is None else lesson.max_attempts - attempt.number
    reveal = attempt.passed or attempts_left == 0
    best_score = db.session.scalar(
        sa.select(sa.func.max(QuizAttempt.score)).where(
            QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.lesson_id == lesson.id
        )
    )
    return AttemptResult(
        attempt=attempt,
        pass_mark=pass_mark,
        attempts_left=attempts_left,
        best_score=best_score,
        questions=[
            {
                "id": r["question"]["id"],
                "correct": r["correct"],
                "your_answer": r["given"],
                # The right choices once they can no longer be used to pass by trying again.
                "correct_answer": r["question"]["answer"] if reveal else None,
                "explanation_html": r["question"]["explanation_html"],
            }
            for r in results
        ],
        progress=progress,
    )
