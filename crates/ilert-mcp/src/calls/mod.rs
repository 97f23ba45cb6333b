//! The call pipeline: the catalogue of tools and the stages a tool call passes through.

pub mod catalogue;
