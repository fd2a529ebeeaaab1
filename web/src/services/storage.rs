//! "Keep in this browser": inputs and the switch itself in local storage, opt-in, cleared on demand.

use gloo::storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

const KEY: &str = "podreach.inputs.v1";

/// Local storage holds about 5 MB per origin (UTF-16 in some browsers): inputs over this are not
/// kept, and the page says so instead of reading them only to fail.
pub const LIMIT: usize = 2_000_000;

#[derive(Serialize, Deserialize, Default)]
pub struct Kept {
    pub paste: String,
    /// Files as text (exports are UTF-8 JSON).
    pub files: Vec<(String, String)>,
}

pub fn load() -> Option<Kept> {
    LocalStorage::get::<Kept>(KEY).ok()
}

/// Saves; an error (quota) comes back as a message for the page.
pub fn save(kept: &Kept) -> Result<(), String> {
    LocalStorage::set(KEY, kept)
        .map_err(|_| "too large to keep in this browser (local storage is full); the page still works".to_owned())
}

pub fn clear() {
    LocalStorage::delete(KEY);
}
