// knack-session types for the Knack app "Helpdesk" (5f0c0ffee0c0ffee0c0ffee1): 11 views.
// Generated from the app's schema by `npx knack-session types --app 5f0c0ffee0c0ffee0c0ffee1`: do not edit;
// run it again when the app changes. Include this file in your TypeScript program (tsconfig
// "include" or "files"): reads and writes with a literal scene and view are then typed, e.g.
//   session.getRecords({ scene: 'scene_1', view: 'view_1', shape: 'labels' })

import type { KnackAsset, KnackAssetInput, KnackConnection, KnackConnectionInput, KnackDateTimeRaw, KnackEmailRaw, KnackFormatted, KnackName } from 'knack-session'

// ---- scene_1 "My Tickets" (my-tickets) ----------------------------------------

/** scene_1/view_1 "My tickets" (table of object_3 Tickets): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene1_View1_Fields {
  id: string
  /** Subject: short_text, required */
  field_10: KnackFormatted
  field_10_raw?: string
  /** Status: multiple_choice, one of "New", "Open", "Pending", "Closed" */
  field_12: KnackFormatted
  field_12_raw?: string
  /** Priority: number */
  field_13: KnackFormatted
  field_13_raw?: number
  /** Customer: connection, -> object_1 Customers */
  field_14: KnackFormatted
  field_14_raw?: KnackConnection[]
  /** Created: date_time */
  field_15: KnackFormatted
  field_15_raw?: KnackDateTimeRaw
  /** Contact email: email */
  field_16: KnackFormatted
  field_16_raw?: KnackEmailRaw
  /** Attachment: file */
  field_17: KnackFormatted
  field_17_raw?: KnackAsset | ''
}

/** scene_1/view_1 "My tickets" (table of object_3 Tickets): a record with `shape: 'labels'`. */
export interface Scene1_View1_Labels {
  id: string
  /** field_10: short_text, required */
  Subject: string | null
  /** field_12: multiple_choice, one of "New", "Open", "Pending", "Closed" */
  Status: string | null
  /** field_13: number */
  Priority: number | null
  /** field_14: connection, -> object_1 Customers */
  Customer: KnackConnection[]
  /** field_15: date_time, a Date at the real instant */
  Created: Date | null
  /** field_16: email */
  'Contact email': string | null
  /** field_17: file */
  Attachment: KnackAsset | null
}

/** scene_1/view_1 "My tickets" (table of object_3 Tickets): `data` of createRecord/updateRecord with `shape: 'labels'` (label keys or field keys; null clears). */
export interface Scene1_View1_Input {
  /** field_10: short_text, required */
  Subject?: string | null
  /** field_12: multiple_choice, one of "New", "Open", "Pending", "Closed" */
  Status?: string | null
  /** field_13: number */
  Priority?: number | null
  /** field_14: connection, -> object_1 Customers */
  Customer?: KnackConnectionInput | null
  /** field_15: date_time, a Date at the real instant */
  Created?: Date | null
  /** field_16: email */
  'Contact email'?: string | null
  /** field_17: file */
  Attachment?: KnackAssetInput | null
}

/** scene_1/view_1 "My tickets" (table of object_3 Tickets): its entry in KnackViews. */
export interface Scene1_View1 {
  fields: Scene1_View1_Fields
  labels: Scene1_View1_Labels
  input: Scene1_View1_Input
  keys: { Subject: 'field_10'; Status: 'field_12'; Priority: 'field_13'; Customer: 'field_14'; Created: 'field_15'; 'Contact email': 'field_16'; Attachment: 'field_17' }
}

/** scene_1/view_2 "New ticket" (form of object_3 Tickets): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene1_View2_Fields {
  id: string
  /** Subject: short_text, required */
  field_10: KnackFormatted
  field_10_raw?: string
  /** Description: paragraph_text */
  field_11: KnackFormatted
  field_11_raw?: string
  /** Priority: number */
  field_13: KnackFormatted
  field_13_raw?: number
  /** Contact email: email */
  field_16: KnackFormatted
  field_16_raw?: KnackEmailRaw
  /** Attachment: file */
  field_17: KnackFormatted
  field_17_raw?: KnackAsset | ''
}

/** scene_1/view_2 "New ticket" (form of object_3 Tickets): a record with `shape: 'labels'`. */
export interface Scene1_View2_Labels {
  id: string
  /** field_10: short_text, required */
  Subject: string | null
  /** field_11: paragraph_text */
  Description: string | null
  /** field_13: number */
  Priority: number | null
  /** field_16: email */
  'Contact email': string | null
  /** field_17: file */
  Attachment: KnackAsset | null
}

/** scene_1/view_2 "New ticket" (form of object_3 Tickets): `data` of createRecord/updateRecord with `shape: 'labels'` (label keys or field keys; null clears). */
export interface Scene1_View2_Input {
  /** field_10: short_text, required */
  Subject?: string | null
  /** field_11: paragraph_text */
  Description?: string | null
  /** field_13: number */
  Priority?: number | null
  /** field_16: email */
  'Contact email'?: string | null
  /** field_17: file */
  Attachment?: KnackAssetInput | null
}

/** scene_1/view_2 "New ticket" (form of object_3 Tickets): its entry in KnackViews. */
export interface Scene1_View2 {
  fields: Scene1_View2_Fields
  labels: Scene1_View2_Labels
  input: Scene1_View2_Input
  keys: { Subject: 'field_10'; Description: 'field_11'; Priority: 'field_13'; 'Contact email': 'field_16'; Attachment: 'field_17' }
}

/** scene_1/view_3 "Edit my ticket" (form of object_3 Tickets): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene1_View3_Fields {
  id: string
  /** Subject: short_text, required */
  field_10: KnackFormatted
  field_10_raw?: string
  /** Description: paragraph_text */
  field_11: KnackFormatted
  field_11_raw?: string
  /** Priority: number */
  field_13: KnackFormatted
  field_13_raw?: number
  /** Contact email: email */
  field_16: KnackFormatted
  field_16_raw?: KnackEmailRaw
}

/** scene_1/view_3 "Edit my ticket" (form of object_3 Tickets): a record with `shape: 'labels'`. */
export interface Scene1_View3_Labels {
  id: string
  /** field_10: short_text, required */
  Subject: string | null
  /** field_11: paragraph_text */
  Description: string | null
  /** field_13: number */
  Priority: number | null
  /** field_16: email */
  'Contact email': string | null
}

/** scene_1/view_3 "Edit my ticket" (form of object_3 Tickets): `data` of createRecord/updateRecord with `shape: 'labels'` (label keys or field keys; null clears). */
export interface Scene1_View3_Input {
  /** field_10: short_text, required */
  Subject?: string | null
  /** field_11: paragraph_text */
  Description?: string | null
  /** field_13: number */
  Priority?: number | null
  /** field_16: email */
  'Contact email'?: string | null
}

/** scene_1/view_3 "Edit my ticket" (form of object_3 Tickets): its entry in KnackViews. */
export interface Scene1_View3 {
  fields: Scene1_View3_Fields
  labels: Scene1_View3_Labels
  input: Scene1_View3_Input
  keys: { Subject: 'field_10'; Description: 'field_11'; Priority: 'field_13'; 'Contact email': 'field_16' }
}

// ---- scene_2 "Agent Desk" (agent-desk) ----------------------------------------

/** scene_2/view_4 "All tickets" (table of object_3 Tickets): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene2_View4_Fields {
  id: string
  /** Subject: short_text, required */
  field_10: KnackFormatted
  field_10_raw?: string
  /** Description: paragraph_text */
  field_11: KnackFormatted
  field_11_raw?: string
  /** Status: multiple_choice, one of "New", "Open", "Pending", "Closed" */
  field_12: KnackFormatted
  field_12_raw?: string
  /** Priority: number */
  field_13: KnackFormatted
  field_13_raw?: number
  /** Customer: connection, -> object_1 Customers */
  field_14: KnackFormatted
  field_14_raw?: KnackConnection[]
  /** Created: date_time */
  field_15: KnackFormatted
  field_15_raw?: KnackDateTimeRaw
  /** Contact email: email */
  field_16: KnackFormatted
  field_16_raw?: KnackEmailRaw
  /** Attachment: file */
  field_17: KnackFormatted
  field_17_raw?: KnackAsset | ''
}

/** scene_2/view_4 "All tickets" (table of object_3 Tickets): a record with `shape: 'labels'`. */
export interface Scene2_View4_Labels {
  id: string
  /** field_10: short_text, required */
  Subject: string | null
  /** field_11: paragraph_text */
  Description: string | null
  /** field_12: multiple_choice, one of "New", "Open", "Pending", "Closed" */
  Status: string | null
  /** field_13: number */
  Priority: number | null
  /** field_14: connection, -> object_1 Customers */
  Customer: KnackConnection[]
  /** field_15: date_time, a Date at the real instant */
  Created: Date | null
  /** field_16: email */
  'Contact email': string | null
  /** field_17: file */
  Attachment: KnackAsset | null
}

/** scene_2/view_4 "All tickets" (table of object_3 Tickets): `data` of createRecord/updateRecord with `shape: 'labels'` (label keys or field keys; null clears). */
export interface Scene2_View4_Input {
  /** field_10: short_text, required */
  Subject?: string | null
  /** field_11: paragraph_text */
  Description?: string | null
  /** field_12: multiple_choice, one of "New", "Open", "Pending", "Closed" */
  Status?: string | null
  /** field_13: number */
  Priority?: number | null
  /** field_14: connection, -> object_1 Customers */
  Customer?: KnackConnectionInput | null
  /** field_15: date_time, a Date at the real instant */
  Created?: Date | null
  /** field_16: email */
  'Contact email'?: string | null
  /** field_17: file */
  Attachment?: KnackAssetInput | null
}

/** scene_2/view_4 "All tickets" (table of object_3 Tickets): its entry in KnackViews. */
export interface Scene2_View4 {
  fields: Scene2_View4_Fields
  labels: Scene2_View4_Labels
  input: Scene2_View4_Input
  keys: { Subject: 'field_10'; Description: 'field_11'; Status: 'field_12'; Priority: 'field_13'; Customer: 'field_14'; Created: 'field_15'; 'Contact email': 'field_16'; Attachment: 'field_17' }
}

/** scene_2/view_5 "Update ticket" (form of object_3 Tickets): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene2_View5_Fields {
  id: string
  /** Subject: short_text, required */
  field_10: KnackFormatted
  field_10_raw?: string
  /** Description: paragraph_text */
  field_11: KnackFormatted
  field_11_raw?: string
  /** Status: multiple_choice, one of "New", "Open", "Pending", "Closed" */
  field_12: KnackFormatted
  field_12_raw?: string
  /** Priority: number */
  field_13: KnackFormatted
  field_13_raw?: number
  /** Contact email: email */
  field_16: KnackFormatted
  field_16_raw?: KnackEmailRaw
}

/** scene_2/view_5 "Update ticket" (form of object_3 Tickets): a record with `shape: 'labels'`. */
export interface Scene2_View5_Labels {
  id: string
  /** field_10: short_text, required */
  Subject: string | null
  /** field_11: paragraph_text */
  Description: string | null
  /** field_12: multiple_choice, one of "New", "Open", "Pending", "Closed" */
  Status: string | null
  /** field_13: number */
  Priority: number | null
  /** field_16: email */
  'Contact email': string | null
}

/** scene_2/view_5 "Update ticket" (form of object_3 Tickets): `data` of createRecord/updateRecord with `shape: 'labels'` (label keys or field keys; null clears). */
export interface Scene2_View5_Input {
  /** field_10: short_text, required */
  Subject?: string | null
  /** field_11: paragraph_text */
  Description?: string | null
  /** field_12: multiple_choice, one of "New", "Open", "Pending", "Closed" */
  Status?: string | null
  /** field_13: number */
  Priority?: number | null
  /** field_16: email */
  'Contact email'?: string | null
}

/** scene_2/view_5 "Update ticket" (form of object_3 Tickets): its entry in KnackViews. */
export interface Scene2_View5 {
  fields: Scene2_View5_Fields
  labels: Scene2_View5_Labels
  input: Scene2_View5_Input
  keys: { Subject: 'field_10'; Description: 'field_11'; Status: 'field_12'; Priority: 'field_13'; 'Contact email': 'field_16' }
}

// ---- scene_3 "Ticket Details" (ticket) ----------------------------------------

/** scene_3/view_6 "Comments" (table of object_4 Comments): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene3_View6_Fields {
  id: string
  /** Body: paragraph_text, required */
  field_20: KnackFormatted
  field_20_raw?: string
  /** Ticket: connection, -> object_3 Tickets */
  field_21: KnackFormatted
  field_21_raw?: KnackConnection[]
  /** Author: short_text */
  field_22: KnackFormatted
  field_22_raw?: string
}

/** scene_3/view_6 "Comments" (table of object_4 Comments): a record with `shape: 'labels'`. */
export interface Scene3_View6_Labels {
  id: string
  /** field_20: paragraph_text, required */
  Body: string | null
  /** field_21: connection, -> object_3 Tickets */
  Ticket: KnackConnection[]
  /** field_22: short_text */
  Author: string | null
}

/** scene_3/view_6 "Comments" (table of object_4 Comments): `data` of createRecord/updateRecord with `shape: 'labels'` (label keys or field keys; null clears). */
export interface Scene3_View6_Input {
  /** field_20: paragraph_text, required */
  Body?: string | null
  /** field_21: connection, -> object_3 Tickets */
  Ticket?: KnackConnectionInput | null
  /** field_22: short_text */
  Author?: string | null
}

/** scene_3/view_6 "Comments" (table of object_4 Comments): its entry in KnackViews. */
export interface Scene3_View6 {
  fields: Scene3_View6_Fields
  labels: Scene3_View6_Labels
  input: Scene3_View6_Input
  keys: { Body: 'field_20'; Ticket: 'field_21'; Author: 'field_22' }
}

/** scene_3/view_7 "Add comment" (form of object_4 Comments): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene3_View7_Fields {
  id: string
  /** Body: paragraph_text, required */
  field_20: KnackFormatted
  field_20_raw?: string
  /** Author: short_text */
  field_22: KnackFormatted
  field_22_raw?: string
}

/** scene_3/view_7 "Add comment" (form of object_4 Comments): a record with `shape: 'labels'`. */
export interface Scene3_View7_Labels {
  id: string
  /** field_20: paragraph_text, required */
  Body: string | null
  /** field_22: short_text */
  Author: string | null
}

/** scene_3/view_7 "Add comment" (form of object_4 Comments): `data` of createRecord/updateRecord with `shape: 'labels'` (label keys or field keys; null clears). */
export interface Scene3_View7_Input {
  /** field_20: paragraph_text, required */
  Body?: string | null
  /** field_22: short_text */
  Author?: string | null
}

/** scene_3/view_7 "Add comment" (form of object_4 Comments): its entry in KnackViews. */
export interface Scene3_View7 {
  fields: Scene3_View7_Fields
  labels: Scene3_View7_Labels
  input: Scene3_View7_Input
  keys: { Body: 'field_20'; Author: 'field_22' }
}

/** scene_3/view_11 "Edit comment" (form of object_4 Comments): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene3_View11_Fields {
  id: string
  /** Body: paragraph_text, required */
  field_20: KnackFormatted
  field_20_raw?: string
}

/** scene_3/view_11 "Edit comment" (form of object_4 Comments): a record with `shape: 'labels'`. */
export interface Scene3_View11_Labels {
  id: string
  /** field_20: paragraph_text, required */
  Body: string | null
}

/** scene_3/view_11 "Edit comment" (form of object_4 Comments): `data` of createRecord/updateRecord with `shape: 'labels'` (label keys or field keys; null clears). */
export interface Scene3_View11_Input {
  /** field_20: paragraph_text, required */
  Body?: string | null
}

/** scene_3/view_11 "Edit comment" (form of object_4 Comments): its entry in KnackViews. */
export interface Scene3_View11 {
  fields: Scene3_View11_Fields
  labels: Scene3_View11_Labels
  input: Scene3_View11_Input
  keys: { Body: 'field_20' }
}

// ---- scene_4 "Help Center" (help) ----------------------------------------

/** scene_4/view_8 "Articles" (list of object_5 Articles): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene4_View8_Fields {
  id: string
  /** Title: short_text */
  field_30: KnackFormatted
  field_30_raw?: string
  /** Body: paragraph_text */
  field_31: KnackFormatted
  field_31_raw?: string
}

/** scene_4/view_8 "Articles" (list of object_5 Articles): a record with `shape: 'labels'`. */
export interface Scene4_View8_Labels {
  id: string
  /** field_30: short_text */
  Title: string | null
  /** field_31: paragraph_text */
  Body: string | null
}

/** scene_4/view_8 "Articles" (list of object_5 Articles): its entry in KnackViews. */
export interface Scene4_View8 {
  fields: Scene4_View8_Fields
  labels: Scene4_View8_Labels
  keys: { Title: 'field_30'; Body: 'field_31' }
}

/** scene_4/view_9 "Article" (details of object_5 Articles): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene4_View9_Fields {
  id: string
  /** Title: short_text */
  field_30: KnackFormatted
  field_30_raw?: string
  /** Body: paragraph_text */
  field_31: KnackFormatted
  field_31_raw?: string
}

/** scene_4/view_9 "Article" (details of object_5 Articles): a record with `shape: 'labels'`. */
export interface Scene4_View9_Labels {
  id: string
  /** field_30: short_text */
  Title: string | null
  /** field_31: paragraph_text */
  Body: string | null
}

/** scene_4/view_9 "Article" (details of object_5 Articles): its entry in KnackViews. */
export interface Scene4_View9 {
  fields: Scene4_View9_Fields
  labels: Scene4_View9_Labels
  keys: { Title: 'field_30'; Body: 'field_31' }
}

// ---- scene_5 "My Account" (account) ----------------------------------------

/** scene_5/view_10 "My account" (details of object_1 Customers): a record as Knack sends it (`shape: 'fields'`, the default). */
export interface Scene5_View10_Fields {
  id: string
  /** Name: name, required */
  field_1: KnackFormatted
  field_1_raw?: KnackName
  /** Email: email, required */
  field_2: KnackFormatted
  field_2_raw?: KnackEmailRaw
}

/** scene_5/view_10 "My account" (details of object_1 Customers): a record with `shape: 'labels'`. */
export interface Scene5_View10_Labels {
  id: string
  /** field_1: name, required */
  Name: KnackName | null
  /** field_2: email, required */
  Email: string | null
}

/** scene_5/view_10 "My account" (details of object_1 Customers): its entry in KnackViews. */
export interface Scene5_View10 {
  fields: Scene5_View10_Fields
  labels: Scene5_View10_Labels
  keys: { Name: 'field_1'; Email: 'field_2' }
}

declare module 'knack-session' {
  interface KnackViews {
    'scene_1/view_1': Scene1_View1
    'scene_1/view_2': Scene1_View2
    'scene_1/view_3': Scene1_View3
    'scene_2/view_4': Scene2_View4
    'scene_2/view_5': Scene2_View5
    'scene_3/view_6': Scene3_View6
    'scene_3/view_7': Scene3_View7
    'scene_3/view_11': Scene3_View11
    'scene_4/view_8': Scene4_View8
    'scene_4/view_9': Scene4_View9
    'scene_5/view_10': Scene5_View10
    'my-tickets/view_1': Scene1_View1
    'my-tickets/view_2': Scene1_View2
    'my-tickets/view_3': Scene1_View3
    'agent-desk/view_4': Scene2_View4
    'agent-desk/view_5': Scene2_View5
    'ticket/view_6': Scene3_View6
    'ticket/view_7': Scene3_View7
    'ticket/view_11': Scene3_View11
    'help/view_8': Scene4_View8
    'help/view_9': Scene4_View9
    'account/view_10': Scene5_View10
  }
}

export {}
