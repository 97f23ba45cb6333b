//! The ilert MCP server.
