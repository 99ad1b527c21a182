//! fake-knack (being built)
