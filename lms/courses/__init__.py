"""Courses as code: the Markdown course format, the importer, versions and the catalog."""
