"""Supervisor pages in the admin: routing preview, live board, call timeline,
coverage and daily reports, each confined to the groups a supervisor keeps."""
