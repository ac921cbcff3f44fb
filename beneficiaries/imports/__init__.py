"""Import of recipient lists from spreadsheets, as communes send them.

``columns`` names the template's columns, ``reader`` finds them in a file,
``cells`` reads each cell, ``rows`` turns a row into a recipient's values,
``services`` checks a whole file (the preview) and writes it (the commit),
``workbooks`` writes the template and the rejected rows.
"""
