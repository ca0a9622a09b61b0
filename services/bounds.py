"""The ranges every id, page number, amount and date the app accepts must lie in.

One table for the URL converter, the forms, the API's schemas and the services, so that input
outside what the database can store (or what could be meant) is refused as a 404 or a 422 before
it reaches a query or date arithmetic, never as a 500.
"""
from __future__ import annotations

from datetime import date

# Primary keys are INTEGER columns: 32-bit signed on PostgreSQL (SQLite's hold 64 bits).
MAX_ID = 2**31 - 1
# The last page number a list answers (past the end of the data a page is empty): at 100 items a
# page the OFFSET stays below 10**11, far inside the 64-bit integers both databases take. A larger
# number is a page that does not exist (404 on pages, 422 in the API).
MAX_PAGE = 10**9
# Money in đồng (VND has no smaller unit): up to ten thousand billion, a BIGINT with room to spare.
MAX_VND = 10**13
# Dates people type (deadlines, filters, periods): outside these years it is a typing mistake, and
# date arithmetic (a day after, local midnight in UTC) stays far from year 1 and year 9999.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
