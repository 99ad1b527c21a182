//! Generated records: `--seed-tickets N` at start (kept in the data a reset goes back to)
//! and `POST /_fake/seed` / [`crate::FakeState::seed`] at any time.

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::error::Error;
use crate::ids::{Id, IdGen};
use crate::schema::{FieldType, Schema};
use crate::store::{Data, EmailVal, NameVal, Record, Val};

/// Answer of `POST /_fake/seed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedResult {
    pub object: String,
    pub count: usize,
    pub ids_from: Option<String>,
    pub ids_to: Option<String>,
    /// Records of the object after seeding.
    pub total: usize,
}

/// Adds `count` records to the fixture's `seed_tickets` object of the startup data
/// (nothing when `count` is 0).
pub(crate) fn seed_startup(
    schema: &Schema,
    ids: &IdGen,
    clock: &Clock,
    data: &mut Data,
    count: usize,
) -> Result<(), Error> {
    if count == 0 {
        return Ok(());
    }
    let spec = schema.seed_tickets.as_ref().ok_or_else(|| {
        Error::Fixture("--seed-tickets needs `seed_tickets` in the fixture".into())
    })?;
    let now_local = schema.app.tz.to_local(clock.now_ms());
    seed_into(
        schema,
        ids,
        data,
        spec.object,
        count,
        &spec.connect,
        now_local,
    );
    Ok(())
}

/// Appends `count` records to object `oi`. `connect` maps connection field keys to a record
/// id, which must exist, that every generated record connects to.
pub(crate) fn seed_object(
    schema: &Schema,
    ids: &IdGen,
    clock: &Clock,
    data: &mut Data,
    oi: usize,
    count: usize,
    connect: &[(&str, &str)],
) -> Result<SeedResult, Error> {
    let obj = &schema.objects[oi];
    let object = &obj.key;
    if obj.recorded.is_some() {
        return Err(Error::Invalid(format!(
            "{object} is recorded: records cannot be added to it"
        )));
    }
    let mut links = Vec::new();
    for (fk, rid) in connect {
        let fi = obj
            .field(fk)
            .ok_or_else(|| Error::Invalid(format!("{object} has no field {fk}")))?;
        let f = &obj.fields[fi];
        let target = f
            .target
            .ok_or_else(|| Error::Invalid(format!("{fk} is not a connection")))?;
        let id = Id::parse(rid)
            .filter(|id| data.tables[target].get(id).is_some())
            .ok_or_else(|| Error::Invalid(format!("{fk}: unknown record {rid}")))?;
        links.push((fi, id));
    }
    let now_local = schema.app.tz.to_local(clock.now_ms());
    let range = seed_into(schema, ids, data, oi, count, &links, now_local);
    Ok(SeedResult {
        object: object.clone(),
        count,
        ids_from: range.map(|r| r.0.hex()),
        ids_to: range.map(|r| r.1.hex()),
        total: data.tables[oi].len(),
    })
}

/// Generates `count` records; returns the first and last id.
fn seed_into(
    schema: &Schema,
    ids: &IdGen,
    data: &mut Data,
    oi: usize,
    count: usize,
    connect: &[(usize, Id)],
    now_local: i64,
) -> Option<(Id, Id)> {
    if count == 0 {
        return None;
    }
    let obj = &schema.objects[oi];
    let table = &mut data.tables[oi];
    table.reserve(count);
    let base = table.len();
    let first = ids.next_block(count as u64);
    for i in 0..count {
        let n = base + i + 1;
        let vals: Vec<Val> = obj
            .fields
            .iter()
            .enumerate()
            .map(|(fi, f)| {
                if let Some((_, id)) = connect.iter().find(|(cf, _)| *cf == fi) {
                    return Val::Conn(vec![*id]);
                }
                match f.ftype {
                    FieldType::ShortText => Val::Text(format!("{} #{n}", f.name).into()),
                    FieldType::ParagraphText => {
                        Val::Text(format!("Generated {} for record {n}.", f.name).into())
                    }
                    FieldType::MultipleChoice => match &f.default {
                        Some(d) if n & 1 == 0 => d.clone(),
                        _ => Val::Text(f.options[n % f.options.len()].as_str().into()),
                    },
                    FieldType::Number => Val::Num((n % 5 + 1) as f64),
                    FieldType::DateTime => Val::Date(now_local - (n as i64) * 60_000),
                    FieldType::Email => Val::Email(Box::new(EmailVal {
                        email: format!("seed{n}@example.com"),
                        label: String::new(),
                    })),
                    FieldType::Name => Val::Name(Box::new(NameVal {
                        first: "Seed".into(),
                        last: n.to_string(),
                        ..NameVal::default()
                    })),
                    FieldType::Boolean => Val::Bool(n & 1 == 0),
                    FieldType::Connection
                    | FieldType::File
                    | FieldType::Image
                    | FieldType::Password => Val::Empty,
                    // Types the fake does not store stay empty.
                    _ => Val::Empty,
                }
            })
            .collect();
        table.insert(Record {
            id: first.offset(i as u64),
            vals: vals.into_boxed_slice(),
        });
    }
    Some((first, first.offset(count as u64 - 1)))
}
