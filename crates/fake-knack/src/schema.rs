//! The compiled schema of a fixture: the app, its objects and fields, scenes and views, and
//! users, with every reference resolved to an index. `fixture::compile` builds it; the
//! handlers, value parsing, rendering, filters, tokens and seeding read it.
//!
//! The enums shared with the fixture file ([`FieldType`], [`Access`], [`ViewType`],
//! [`FormAction`]) deserialise from the file's snake_case names.

use std::collections::HashMap;

use serde::Deserialize;

use serde_json::{Map, Value};

use crate::clock::Tz;
use crate::ids::Id;
use crate::recorded::RecordedTable;
use crate::store::Val;

/// Field types the fake knows. The first twelve (short_text to boolean) can be stored and
/// written in any object; the others exist so that a fixture's metadata can name them and a
/// recorded object (`"recorded": true`) can hold their values verbatim: writes of them are
/// refused (`type: "unsupported"`) and seeding leaves them empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    ShortText,
    ParagraphText,
    Name,
    Email,
    Password,
    MultipleChoice,
    Number,
    Connection,
    #[serde(alias = "date")]
    DateTime,
    File,
    Image,
    Boolean,
    RichText,
    Currency,
    AutoIncrement,
    Concatenation,
    Equation,
    Timer,
    Address,
    Phone,
    Link,
    Rating,
    Signature,
    Sum,
    Count,
    Average,
    UserRoles,
}

impl FieldType {
    pub fn as_str(&self) -> &'static str {
        match self {
            FieldType::ShortText => "short_text",
            FieldType::ParagraphText => "paragraph_text",
            FieldType::Name => "name",
            FieldType::Email => "email",
            FieldType::Password => "password",
            FieldType::MultipleChoice => "multiple_choice",
            FieldType::Number => "number",
            FieldType::Connection => "connection",
            FieldType::DateTime => "date_time",
            FieldType::File => "file",
            FieldType::Image => "image",
            FieldType::Boolean => "boolean",
            FieldType::RichText => "rich_text",
            FieldType::Currency => "currency",
            FieldType::AutoIncrement => "auto_increment",
            FieldType::Concatenation => "concatenation",
            FieldType::Equation => "equation",
            FieldType::Timer => "timer",
            FieldType::Address => "address",
            FieldType::Phone => "phone",
            FieldType::Link => "link",
            FieldType::Rating => "rating",
            FieldType::Signature => "signature",
            FieldType::Sum => "sum",
            FieldType::Count => "count",
            FieldType::Average => "average",
            FieldType::UserRoles => "user_roles",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Public,
    Login,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewType {
    Table,
    List,
    Details,
    Search,
    Form,
    /// Charts and pivot tables (`GET .../report[/{n}]`).
    Report,
}

impl ViewType {
    pub fn as_str(&self) -> &'static str {
        match self {
            ViewType::Table => "table",
            ViewType::List => "list",
            ViewType::Details => "details",
            ViewType::Search => "search",
            ViewType::Form => "form",
            ViewType::Report => "report",
        }
    }
}

/// A calculation of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calc {
    Count,
    Sum,
    Average,
    Min,
    Max,
}

impl Calc {
    pub fn as_str(&self) -> &'static str {
        match self {
            Calc::Count => "count",
            Calc::Sum => "sum",
            Calc::Average => "average",
            Calc::Min => "min",
            Calc::Max => "max",
        }
    }
}

/// One chart or pivot table of a report view: the view's records grouped by one field,
/// with calculations per group.
#[derive(Debug)]
pub struct ReportSchema {
    pub title: String,
    /// pie, bar, line, area or table
    pub chart: String,
    /// Field index of the grouping.
    pub group: usize,
    pub calcs: Vec<CalcSchema>,
}

#[derive(Debug)]
pub struct CalcSchema {
    pub calc: Calc,
    /// The number field of sum/average/min/max.
    pub field: Option<usize>,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormAction {
    Insert,
    Update,
}

/// A compiled fixture. The lookup maps are filled by the compiler alongside the vectors
/// they index; read them through [`Schema::object`], [`Schema::scene`] and the `user_by_*`
/// methods.
#[derive(Debug)]
pub struct Schema {
    pub app: AppInfo,
    pub objects: Vec<ObjectSchema>,
    pub(crate) object_by_key: HashMap<String, usize>,
    pub scenes: Vec<SceneSchema>,
    /// Scene key and slug -> index into `scenes`.
    pub(crate) scene_lookup: HashMap<String, usize>,
    pub users: Vec<UserSchema>,
    /// Trimmed, lowercased email -> index into `users`.
    pub(crate) user_by_email: HashMap<String, usize>,
    pub(crate) user_by_id: HashMap<Id, usize>,
    pub seed_tickets: Option<SeedSpec>,
}

#[derive(Debug)]
pub struct AppInfo {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub account_slug: String,
    pub timezone: String,
    pub tz: Tz,
}

#[derive(Debug)]
pub struct ObjectSchema {
    pub key: String,
    pub name: String,
    pub identifier: usize,
    pub user: Option<UserObject>,
    pub fields: Vec<FieldSchema>,
    /// Field key -> index into `fields` (filled by the compiler).
    pub(crate) field_by_key: HashMap<String, usize>,
    /// The records of a recorded object (`"recorded": true`), kept as the fixture's JSON
    /// text; such an object has no stored records.
    pub recorded: Option<RecordedTable>,
}

impl ObjectSchema {
    pub fn field(&self, key: &str) -> Option<usize> {
        self.field_by_key.get(key).copied()
    }
}

#[derive(Debug)]
pub struct UserObject {
    pub profile: String,
    pub email_field: usize,
    pub password_field: Option<usize>,
}

#[derive(Debug)]
pub struct FieldSchema {
    pub key: String,
    pub name: String,
    pub ftype: FieldType,
    pub required: bool,
    pub options: Vec<String>,
    pub default: Option<Val>,
    /// Target object index of a connection.
    pub target: Option<usize>,
    /// The fixture's `format` object, shown in the metadata (with `options` added).
    pub format: Option<Map<String, Value>>,
}

#[derive(Debug)]
pub struct SceneSchema {
    pub key: String,
    pub slug: String,
    pub name: String,
    pub access: Access,
    pub profiles: Vec<String>,
    pub parent: Option<String>,
    pub object: Option<String>,
    pub views: Vec<ViewSchema>,
}

impl SceneSchema {
    pub fn view(&self, key: &str) -> Option<&ViewSchema> {
        self.views.iter().find(|v| v.key == key)
    }
}

#[derive(Debug)]
pub struct ViewSchema {
    pub key: String,
    pub name: String,
    pub vtype: ViewType,
    pub action: Option<FormAction>,
    pub object: usize,
    pub fields: Vec<usize>,
    pub inputs: Vec<usize>,
    pub rules: Vec<Rule>,
    pub inline_edit: bool,
    pub delete: bool,
    pub connected_to_user: Option<UserLink>,
    pub parent: Option<ParentLink>,
    /// (field index, descending)
    pub sort: Vec<(usize, bool)>,
    /// Fields rendered in GET and write responses.
    pub render_fields: Vec<usize>,
    /// The reports of a report view (empty for other views).
    pub reports: Vec<ReportSchema>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserLink {
    /// Records of the user object: only the logged-in user's own record.
    SelfRecord,
    /// Records whose connection field holds the user's record id.
    Field(usize),
}

#[derive(Debug, Clone, Copy)]
pub struct ParentLink {
    pub object: usize,
    pub field: usize,
}

#[derive(Debug)]
pub struct Rule {
    pub field: usize,
    pub action: RuleAction,
}

#[derive(Debug)]
pub enum RuleAction {
    LoggedInUser,
    ParentRecord,
    Now,
    Value(Val),
}

#[derive(Debug)]
pub struct UserSchema {
    pub id: Id,
    pub object: usize,
    pub email: String,
    pub password: String,
    pub approval_status: String,
    pub account_status: String,
    pub profile_keys: Vec<String>,
}

#[derive(Debug)]
pub struct SeedSpec {
    pub object: usize,
    pub connect: Vec<(usize, Id)>,
}

impl Schema {
    pub fn object(&self, key: &str) -> Option<usize> {
        self.object_by_key.get(key).copied()
    }

    /// A scene by key (`scene_1`) or slug (`my-tickets`).
    pub fn scene(&self, key_or_slug: &str) -> Option<&SceneSchema> {
        self.scene_lookup
            .get(key_or_slug)
            .and_then(|&i| self.scenes.get(i))
    }

    pub fn user_by_email(&self, email: &str) -> Option<&UserSchema> {
        self.user_by_email
            .get(&email.trim().to_lowercase())
            .and_then(|&i| self.users.get(i))
    }

    pub fn user_by_id(&self, id: &Id) -> Option<&UserSchema> {
        self.user_by_id.get(id).and_then(|&i| self.users.get(i))
    }
}
