//! Typed async client for the ilert REST API.
