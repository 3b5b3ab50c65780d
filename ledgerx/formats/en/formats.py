# The project's one way of writing dates (ledgerx/formats/__init__.py says why); `T` names the zone.
DATE_FORMAT = "M j, Y"
SHORT_DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, H:i T"
SHORT_DATETIME_FORMAT = "M j, Y, H:i T"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "F Y"
