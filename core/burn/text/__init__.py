"""Text for people: the one money formatter, tables, and the human forms of reports."""
