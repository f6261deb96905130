"""Sizes shared by the benchmark modules."""

SMALL, LARGE = 5_000, 20_000  # corpus sizes, in documents
CLIENTS = 20  # concurrent clients for throughput and the load check
HUGE = 50_000  # documents, for the memory figure
SCALE_SIZES = (5_000, 20_000, 100_000)  # documents, for growth to 100,000 (issue 18)
BIG_DOCUMENT_MB = 50  # one document this large among the search results
EDITED_DOCUMENTS = 10  # documents changed by each re-sync that edits

# A word in most documents' bodies: the "frequent word" searched (front-matter labels such as
# "Status" are not indexed, so they are no longer a frequent word).
FREQUENT_WORD = "and"
