"""Course rules: the service interface that views, APIs, commands and later packages call.
No HTTP here. Each rule lives in the module named for its job:

* ``importing``: a folder or archive becomes a version (read and checked by ``loader``);
* ``publishing``: which version of a course is published;
* ``catalog``: what the catalog, outlines and lessons show to whom.
"""

from lms.courses.catalog import (
    AdminCourseRow,
    CatalogPage,
    LessonPage,
    admin_courses,
    catalog_page,
    catalog_query,
    get_asset,
    lesson_page,
    outline,
    public_questions,
    published_slugs,
    visible_version,
)
from lms.courses.importing import (
    DEFAULT_CONTENT,
    ImportResult,
    import_course_archive,
    import_course_folder,
    launch_course_folders,
)
from lms.courses.publishing import get_course_for_admin, publish_version, set_published

__all__ = [
    "AdminCourseRow",
    "admin_courses",
    "DEFAULT_CONTENT",
    "CatalogPage",
    "ImportResult",
    "LessonPage",
    "catalog_page",
    "catalog_query",
    "get_asset",
    "get_course_for_admin",
    "import_course_archive",
    "import_course_folder",
    "launch_course_folders",
    "lesson_page",
    "outline",
    "public_questions",
    "publish_version",
    "published_slugs",
    "set_published",
    "visible_version",
]
