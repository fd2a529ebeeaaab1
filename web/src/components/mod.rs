//! The page's views, one concern per file. Every string from the input is rendered as text.

pub mod common;
pub mod help;
pub mod inputs;
pub mod query;
pub mod results;
