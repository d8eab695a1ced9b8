"""Small course folders written into a temporary directory, to import or break on purpose."""

import io
import tarfile
import textwrap
import zipfile
from pathlib import Path

# The smallest valid PNG (1 x 1 pixel).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a4c300"
    "00000049454e44ae426082"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def make_course(root: Path, slug: str = "tiny-course", version: str = "1.0.0") -> Path:
    folder = root / slug
    write(
        folder / "course.yaml",
        f"""
        slug: {slug}
        title: A Tiny Course
        version: "{version}"
        summary: Everything a test needs.
        topics: [testing, open-source]
        estimated_hours: 1
        pass_mark: 70
        """,
    )
    write(folder / "01-basics" / "module.yaml", "title: Basics\nsummary: The first steps.\n")
    write(
        folder / "01-basics" / "01-hello.md",
        """
        ---
        title: Hello
        minutes: 5
        ---

        ## Welcome

        Read [the next lesson](02-world.md#start) and see ![a diagram](img/dot.png).
        """,
    )
    (folder / "01-basics" / "img").mkdir()
    (folder / "01-basics" / "img" / "dot.png").write_bytes(PNG)
    write(
        folder / "01-basics" / "02-world.md",
        """
        ---
        title: World
        minutes: 7
        required: false
        ---

        ## Start

        ```python
        print("hello")
        ```
        """,
    )
    write(
        folder / "01-basics" / "03-check-basics.yaml",
        """
        title: Check the basics
        max_attempts: 3
        questions:
          - id: q1
            type: single
            prompt: Which is a **license**?
            choices:
              - id: a
                text: MIT
              - id: b
                text: README
            answer: a
            explanation: MIT is a license.
          - id: q2
            type: multiple
            prompt: Which are files?
            choices:
              - id: a
                text: README
              - id: b
                text: LICENSE
              - id: c
                text: a meeting
            answer: [a, b]
            explanation: Meetings are not files.
        """,
    )
    write(folder / "02-next" / "module.yaml", "title: Next steps\n")
    write(
        folder / "02-next" / "01-more.md",
        """
        ---
        title: More
        minutes: 3
        ---

        Back to [hello](../01-basics/01-hello.md).
        """,
    )
    return folder


def zip_folder(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_folder(folder: Path, extra_members: list[tarfile.TarInfo] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname=folder.name)
        for member in extra_members or []:
            archive.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return buffer.getvalue()
