"""The API across apps: the permission matrix, query counts, lists, tenancy leaks, an end-to-end run and a
generated client against a live server."""
