//! knack-client core (being built)
