//! In-memory record storage: per object a vector of records (insertion order, with
//! tombstones for deletes) and an id -> position map.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ids::Id;
use crate::spool::SpoolFile;

/// A stored field value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Empty,
    /// short_text, paragraph_text, multiple_choice
    Text(Box<str>),
    Num(f64),
    Bool(bool),
    Email(Box<EmailVal>),
    Name(Box<NameVal>),
    /// Connected record ids.
    Conn(Vec<Id>),
    /// The app's local wall clock, in milliseconds on a UTC scale (Knack's convention).
    Date(i64),
    /// An uploaded asset.
    File(Id),
}

impl Val {
    pub fn is_blank(&self) -> bool {
        match self {
            Val::Empty => true,
            Val::Text(s) => s.trim().is_empty(),
            Val::Conn(v) => v.is_empty(),
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EmailVal {
    pub email: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct NameVal {
    pub title: String,
    pub first: String,
    pub middle: String,
    pub last: String,
}

impl NameVal {
    pub fn full(&self) -> String {
        let mut s = String::new();
        for part in [&self.title, &self.first, &self.middle, &self.last] {
            if !part.is_empty() {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(part);
            }
        }
        s
    }
}

#[derive(Clone, Debug)]
pub struct Record {
    pub id: Id,
    /// One value per field of the object, in the object's field order.
    pub vals: Box<[Val]>,
}

/// The records of one object.
#[derive(Clone, Debug, Default)]
pub struct Table {
    rows: Vec<Option<Record>>,
    index: HashMap<Id, usize>,
    live: usize,
}

impl Table {
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn insert(&mut self, rec: Record) -> bool {
        if self.index.contains_key(&rec.id) {
            return false;
        }
        self.index.insert(rec.id, self.rows.len());
        self.rows.push(Some(rec));
        self.live += 1;
        true
    }

    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
        self.index.reserve(n);
    }

    pub fn get(&self, id: &Id) -> Option<&Record> {
        let pos = *self.index.get(id)?;
        self.rows.get(pos)?.as_ref()
    }

    pub fn get_mut(&mut self, id: &Id) -> Option<&mut Record> {
        let pos = *self.index.get(id)?;
        self.rows.get_mut(pos)?.as_mut()
    }

    pub fn remove(&mut self, id: &Id) -> Option<Record> {
        let pos = self.index.remove(id)?;
        let rec = self.rows.get_mut(pos)?.take();
        if rec.is_some() {
            self.live -= 1;
        }
        rec
    }

    /// Live records in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Record> {
        self.rows.iter().flatten()
    }
}

/// An uploaded file or image. Its bytes are in a spool file (see `spool`).
#[derive(Clone, Debug)]
pub struct Asset {
    /// Upload order.
    pub seq: u64,
    /// "file" or "image"
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// The raw headers of the `files` part (lower-case names, values as sent).
    pub part_headers: Vec<(String, String)>,
    pub file: Arc<SpoolFile>,
    /// (object index, record id, field index) once attached to a record.
    pub used_by: Option<(usize, Id, usize)>,
}

/// All mutable data of the app.
#[derive(Clone, Debug, Default)]
pub struct Data {
    pub tables: Vec<Table>,
    pub assets: HashMap<Id, Asset>,
}
