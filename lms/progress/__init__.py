"""Enrollments, lesson progress, quiz attempts, completion, dashboards and reports."""
