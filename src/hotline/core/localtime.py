"""The centre's time zone and day length: defined here once (pure).

Times are integer milliseconds since the epoch (UTC) everywhere; a local day or clock time is
for people and for the day-by-day figures.

    DAY_MS         a day in milliseconds (a local day is 24 h: the zone has no DST)
    TZ_NAME        "Asia/Shanghai": how settings, metric parameters and reports name it
    CHINA          the same zone as a fixed UTC+8 value (China has kept no DST since 1991),
                   for pure code that must not read the zone database
"""

from __future__ import annotations

import datetime as dt

DAY_MS = 86_400_000
TZ_NAME = "Asia/Shanghai"
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
