//! Human views of the projections, the same for the web dashboard and the printed reports:
//! figures computed from judged complaints and indicator results ([`model`]), and their
//! renderings as HTML pages with server-drawn SVG charts, Markdown and CSV ([`pages`],
//! [`export`]), in Thai (Buddhist-era dates) or English.
//!
//! Pure: everything arrives as values (complaints, reports, the instant, the language); the
//! output is a string. No I/O, no clock.

pub mod evaluation;
pub mod export;
pub mod html;
pub mod i18n;
pub mod map;
pub mod model;
pub mod oversight;
pub mod pages;
pub mod svg;
pub mod worklist;

pub use i18n::Lang;
pub use model::{LeagueRow, LeagueSort, Overview, Share};
