//! The organisation: party groups with their memberships and settings, sections and user
//! accounts.

mod party_groups;
mod people;
pub mod roster;

pub use party_groups::{
    NewMember, NewPartyGroup, PartyGroupDetail, SettingsChange, SettingsView, add_member,
    candidates, chaired_groups, create_group, end_member, group_detail, group_name, groups_held,
    list, named_group, update_settings, visible_group,
};
pub use people::{
    FIRST_PASSWORDS_AT_ONCE, FirstPassword, NewSection, NewUser, SectionChange, UserChange,
    create_section, create_user, email_of, issue_first_passwords, parse_groups, parse_section,
    present, sections, update_section, update_user, user, users, without_password,
};
