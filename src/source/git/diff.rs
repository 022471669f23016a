//! Commit ranges and staged changes: added lines only.
