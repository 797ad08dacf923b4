"""One way of writing dates and times on every page: 24-hour, ISO dates in forms.

Django's own English formats ("Dec. 1, 2026, 2:02 p.m.", mm/dd) win over the
settings' DATETIME_FORMAT, so the project's formats live here (FORMAT_MODULE_PATH).
"""

DATE_FORMAT = "D d M Y"
SHORT_DATE_FORMAT = "D d M Y"
DATETIME_FORMAT = "D d M Y, H:i:s"
SHORT_DATETIME_FORMAT = "D d M Y, H:i:s"
TIME_FORMAT = "H:i:s"
MONTH_DAY_FORMAT = "d M"
YEAR_MONTH_FORMAT = "M Y"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
