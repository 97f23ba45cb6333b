//! An ilert-compatible REST API over SQLite.
