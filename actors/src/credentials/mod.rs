//! Fresh credentials for every connection attempt, from an async provider.

mod attempt;
mod error;
mod provider;
mod set;

pub use attempt::Attempt;
pub use error::CredentialsError;
pub use provider::CredentialsProvider;
pub(crate) use set::header_names;
pub use set::Credentials;
