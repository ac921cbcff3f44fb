# The programme's records are Vietnamese: English pages keep dd/mm/yyyy dates,
# and only the number separators change.
from vss_program.formats.vi.formats import *  # noqa: F403

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
