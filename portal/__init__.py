"""The customers' side: the portal pages (/portal/) and the borrower API (/api/portal/)."""
