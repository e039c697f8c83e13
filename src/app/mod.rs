//! What the pages, the API and the commands do, between `web` (or `main`) and `domain`: each
//! function loads what a rule reads, asks `domain` and answers, knowing nothing of HTTP.

pub mod ballot_box;
