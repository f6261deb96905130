"""The schema revision this code expects; health compares the database against it."""

# Keep equal to the newest revision in migrations/versions (a test checks it). A constant,
# because the installed package cannot rely on finding the migrations folder at run time.
MIGRATION_HEAD = "0002_document_links"
