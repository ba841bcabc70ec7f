//! Validated value types shared by Echo's services, and nothing with I/O.
//!
//! "Parse, don't validate": every value that arrives from outside (an email, a display name, a
//! message text…) becomes a newtype through a `parse` that returns [`Invalid`] naming the field,
//! so code past the HTTP layer never sees an unchecked string.
//!
//! - [`text`]: names, free text, emails, passwords, message bodies and emoji names.
//! - [`time`]: the millisecond timestamps every store keeps, and their RFC 3339 form.
//! - [`ids`]: time-ordered ids.

pub mod ids;
pub mod text;
pub mod time;

mod common_passwords;

pub use ids::new_id;
pub use text::{
    ChannelName, DisplayName, Email, EmojiName, Invalid, MessageText, Password, ShortText, WorkspaceName,
};
