"""Downloads of the lists (ideas, needs, orders) as .xlsx and .csv."""
