//! Planning an import: every file read by its shape, every ticket's sightings put in capture
//! order and turned into events after what the log already holds, and every record accounted
//! for (imported, duplicate, stale or refused). Pure: the caller reads the files, says what
//! the log holds of a ticket, and appends the planned events.

use std::collections::{BTreeMap, HashMap};

use event_model::NewEvent;

use crate::record::{Place, Sighting, Ticket};
use crate::series::{lifecycle, Fate, Prior};
use crate::shapes::{read, ReadInfo, ReadOptions, TraffyError};

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFate {
    /// It brought events.
    Imported,
    /// It brought nothing new: why.
    Duplicate(String),
    /// Captured before what the log already holds of its ticket.
    Stale,
    Refused(String),
}

/// One record's place and fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub file: usize,
    pub place: Place,
    pub ticket_id: Option<String>,
    pub fate: RecordFate,
}

/// A ticket's new events and the records that brought them.
#[derive(Debug, Clone)]
pub struct TicketEvents {
    pub ticket_id: String,
    pub events: Vec<NewEvent>,
    pub records: Vec<usize>,
}

/// The import, planned.
#[derive(Debug, Default)]
pub struct Plan {
    /// Per file: what it held.
    pub files: Vec<ReadInfo>,
    pub outcomes: Vec<Outcome>,
    pub tickets: Vec<TicketEvents>,
}

/// A file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {error}")]
pub struct FileError {
    pub name: String,
    pub error: TraffyError,
}

struct Seen {
    ticket: Ticket,
    sightings: Vec<(Sighting, usize)>,
}

/// Reads `files` (name, bytes, how to read its times) and plans their events; `prior` says
/// what the log holds of a ticket (by ticket id); `districts` maps district names to unit ids.
pub fn plan(
    files: &[(String, Vec<u8>, ReadOptions)],
    districts: &BTreeMap<String, String>,
    prior: &mut dyn FnMut(&str) -> Option<Prior>,
    progress: &mut dyn FnMut(usize),
) -> Result<Plan, FileError> {
    let mut plan = Plan::default();
    let mut tickets: HashMap<String, Seen> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (f, (name, bytes, opts)) in files.iter().enumerate() {
        let outcomes = &mut plan.outcomes;
        let info = read(bytes, opts, &mut |r| match r {
            Err(refused) => outcomes.push(Outcome {
                file: f,
                place: refused.place,
                ticket_id: refused.ticket_id,
                fate: RecordFate::Refused(refused.reason),
            }),
            Ok(rec) => {
                let index = outcomes.len();
                outcomes.push(Outcome {
                    file: f,
                    place: rec.sighting.place,
                    ticket_id: Some(rec.ticket.ticket_id.clone()),
                    fate: RecordFate::Imported,
                });
                match tickets.get_mut(&rec.ticket.ticket_id) {
                    Some(seen) => seen.sightings.push((rec.sighting, index)),
                    None => {
                        order.push(rec.ticket.ticket_id.clone());
                        tickets.insert(
                            rec.ticket.ticket_id.clone(),
                            Seen {
                                ticket: rec.ticket,
                                sightings: vec![(rec.sighting, index)],
                            },
                        );
                    }
                }
            }
        })
        .map_err(|error| FileError {
            name: name.clone(),
            error,
        })?;
        plan.files.push(info);
        progress(f + 1);
    }
    for id in order {
        let mut seen = tickets.remove(&id).expect("listed");
        // Capture order: by when each capture was taken as far as known, then by file and
        // place (the order the files were given in, for captures that say nothing).
        seen.sightings.sort_by(|(a, ia), (b, ib)| {
            let key = |s: &Sighting| s.capture.by.or(s.capture.after);
            key(a)
                .cmp(&key(b))
                .then(plan.outcomes[*ia].file.cmp(&plan.outcomes[*ib].file))
                .then(a.place.cmp(&b.place))
        });
        let p = prior(&id);
        let sightings: Vec<Sighting> = seen.sightings.iter().map(|(s, _)| s.clone()).collect();
        let (steps, fates) = lifecycle(&seen.ticket, &sightings, p.clone());
        let mut records = Vec::new();
        for ((_, index), fate) in seen.sightings.iter().zip(fates) {
            plan.outcomes[*index].fate = match fate {
                Fate::Changed(_) => {
                    records.push(*index);
                    RecordFate::Imported
                }
                Fate::Unchanged => RecordFate::Duplicate(if p.is_some() {
                    "its state is already in the log".into()
                } else {
                    "its state was seen in an earlier record".into()
                }),
                Fate::Stale => RecordFate::Stale,
                Fate::Refused(why) => RecordFate::Refused(why),
            };
        }
        if !steps.is_empty() {
            let first = p.map_or(0, |p| p.events);
            plan.tickets.push(TicketEvents {
                events: crate::map::events_for(&seen.ticket, &steps, first, districts),
                ticket_id: id,
                records,
            });
        }
    }
    Ok(plan)
}
