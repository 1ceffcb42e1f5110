//! HTTP plumbing of the routes and extractors the runtime answers: its two sealed cookies, query and form
//! parameters, and error pages.

pub(crate) mod cookies;
pub(crate) mod page;
pub(crate) mod params;
pub(crate) mod same_origin;
