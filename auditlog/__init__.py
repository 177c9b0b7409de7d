"""The audit trail of every write, its pages and API, archival. Imports the apps below it, never notifications."""
