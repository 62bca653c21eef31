//! The forms' state and checks, without a terminal.

use super::*;
use crate::db::lists::KeyValue;
use crate::db::lookup::Found;
use tui_input::Input;

fn user() -> Target {
    Target::User(UserState {
        id: Uuid::from_u128(1),
        email: "a@b.test".into(),
        name: "A".into(),
        role: Role::User,
        is_active: true,
        email_verified: false,
        credits: 100,
        tenant_id: Uuid::from_u128(2),
        tenant_name: "Acme".into(),
        active_sessions: 2,
        credit_cap: None,
    })
}

/// The dialog a verb opens, on a database with the documented plans.
fn open(verb: Verb, target: Option<Target>) -> Result<Dialog, String> {
    dialog_for(
        verb,
        target,
        &crate::db::lists::KnownValues::default().plans(),
    )
}

fn form(d: Dialog) -> Form {
    match d {
        Dialog::Form(f) => f,
        other => panic!("{other:?}"),
    }
}

fn type_into(form: &mut Form, i: usize, text: &str) {
    form.fields[i].input = Input::new(text.into());
}

#[test]
fn a_top_up_form_validates_then_confirms_with_old_and_new_and_a_fresh_key() {
    let Ok(Dialog::Form(mut f)) = open(Verb::TopUp, Some(user())) else {
        panic!()
    };
    type_into(&mut f, 0, "abc");
    let mut f = form(f.submit()); // Enter on the first field moves on
    assert_eq!(f.focus, 1);
    f = form(f.submit());
    // Both faults at once, in field order, the focus on the first.
    let errors: Vec<&str> = f.field_errors.iter().map(|(_, e)| e.as_str()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("whole number from 1 to 1,000,000"),
        "{errors:?}"
    );
    assert_eq!(errors[1], "reason is empty");
    assert_eq!(f.focus, 0, "the focus goes back to the amount");
    type_into(&mut f, 0, "1,500");
    f = form(form(f.submit()).submit());
    assert_eq!(f.field_errors, [(1, "reason is empty".to_string())]);
    assert_eq!(f.focus, 1);
    type_into(&mut f, 1, "refund #123");
    let Dialog::Confirm(c) = f.submit() else {
        panic!()
    };
    assert_eq!(
        c.lines,
        vec![
            ChangeLine::new("credits", "100".into(), "1,600".into()),
            ChangeLine::new("reason", "".into(), "refund #123".into())
        ]
    );
    let Request::AdjustCredits { key, delta, .. } = c.request else {
        panic!()
    };
    assert_ne!(key, Uuid::nil());
    assert_eq!(delta, 1500);
}

/// What a typed value is checked for (E.164, length, characters a terminal acts on) is said
/// beside its field at submit, every field at once, before any confirm dialog.
#[test]
fn a_new_number_form_names_each_faulty_value_beside_its_field() {
    let Ok(Dialog::Form(mut f)) = open(Verb::AddNumber, None) else {
        panic!()
    };
    type_into(&mut f, 0, &format!("+1 415 {}", "55501".repeat(50)));
    type_into(&mut f, 1, "Front desk\u{202e}");
    type_into(&mut f, 2, &"b".repeat(256));
    f.focus = 2;
    let mut f = form(f.submit());
    assert_eq!(
        f.field_errors,
        [
            (0, "not a number in E.164, e.g. +14155550100".to_string()),
            (
                1,
                "holds control, bidirectional or invisible characters".to_string()
            ),
            (2, "longer than 255 characters".to_string()),
        ]
    );
    assert_eq!(f.focus, 0, "the cursor goes to the first");
    assert_eq!(f.error, None);
    type_into(&mut f, 0, "+1 (415) 555-0199");
    type_into(&mut f, 1, "Front desk");
    type_into(&mut f, 2, "bolna-77");
    f.focus = 2;
    let Dialog::Confirm(c) = f.submit() else {
        panic!("the values are good now")
    };
    let Request::AddNumber { number, .. } = c.request else {
        panic!()
    };
    assert_eq!(number, "+14155550199");
}

#[test]
fn an_agent_description_may_be_cleared_but_a_name_may_not() {
    let agent = Target::Agent(AgentState {
        id: Uuid::from_u128(4),
        name: "Front desk".into(),
        description: Some("Answers calls".into()),
        is_active: true,
    });
    let Ok(Dialog::Form(mut f)) = open(Verb::DescribeAgent, Some(agent.clone())) else {
        panic!()
    };
    type_into(&mut f, 0, "  ");
    let Dialog::Confirm(c) = f.submit() else {
        panic!()
    };
    assert_eq!(
        c.lines,
        vec![ChangeLine::new(
            "description",
            "Answers calls".into(),
            "none".into()
        )]
    );
    let Ok(Dialog::Form(mut f)) = open(Verb::RenameAgent, Some(agent)) else {
        panic!()
    };
    type_into(&mut f, 0, "");
    assert_eq!(
        form(f.submit()).field_errors,
        [(0, "name is empty".to_string())]
    );
}

#[test]
fn toggles_go_straight_to_confirm_and_empty_changes_get_no_dialog() {
    let Ok(Dialog::Confirm(c)) = open(Verb::SetUserActive, Some(user())) else {
        panic!()
    };
    assert_eq!(
        c.lines,
        vec![ChangeLine::new("active", "yes".into(), "no".into())]
    );
    assert_eq!(c.request.audit_action(), "user.deactivate");
    let number = Target::Number(NumberState {
        id: Uuid::from_u128(3),
        phone_number: "+14155550100".into(),
        name: "Main".into(),
        assigned_to: None,
        assigned_email: None,
        is_active: true,
    });
    assert!(open(Verb::UnassignNumber, Some(number)).is_err());
    let Ok(Dialog::Form(f)) = open(Verb::SetRole, Some(user())) else {
        panic!()
    };
    assert_eq!(form(f.submit()).error.as_deref(), Some("nothing to change"));
    assert!(open(Verb::RenameAgent, Some(user())).is_err());
}

fn key(f: &mut Form, code: ratatui::crossterm::event::KeyCode) {
    use ratatui::crossterm::event::{Event, KeyEvent, KeyModifiers};
    let focus = f.focus;
    f.fields[focus].key(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

#[test]
fn a_role_is_chosen_from_a_list_that_narrows_as_the_admin_types() {
    use ratatui::crossterm::event::KeyCode::Char;
    let Ok(Dialog::Form(mut f)) = open(Verb::SetRole, Some(user())) else {
        panic!()
    };
    // Prefilled: every role offered, the one held selected; Enter keeps it.
    let values = |f: &Form| -> Vec<String> {
        f.fields[0]
            .picker
            .items
            .iter()
            .map(|i| i.value.clone())
            .collect()
    };
    assert_eq!(values(&f), ["user", "admin", "super_admin"]);
    assert_eq!(f.fields[0].picker.selected, 0);
    // `A` replaces the value and narrows to the roles holding an a.
    key(&mut f, Char('A'));
    assert_eq!(f.fields[0].input.value(), "A");
    assert_eq!(values(&f), ["admin", "super_admin"]);
    assert_eq!(f.move_choice(true), Moved::Within);
    assert_eq!(f.fields[0].picker.selected, 1);
    assert_eq!(f.move_choice(true), Moved::Within, "stays on the last");
    assert_eq!(f.move_choice(false), Moved::Within);
    // Enter takes `admin` (typed `A`: no case error) and goes on to confirm.
    let Dialog::Confirm(c) = f.submit() else {
        panic!()
    };
    assert_eq!(
        c.lines,
        vec![ChangeLine::new("role", "user".into(), "admin".into())]
    );
}

#[test]
fn a_tenant_is_looked_up_a_page_at_a_time_and_goes_by_id() {
    use ratatui::crossterm::event::KeyCode::{Backspace, Char};
    let Ok(Dialog::Form(mut f)) = open(Verb::MoveUser, Some(user())) else {
        panic!()
    };
    // Prefilled with the user's tenant: the picker asks for the first page of all.
    let search = f.wanted_search().expect("a search");
    assert_eq!(search.text, "");
    f.asked(7, search.clone());
    assert_eq!(f.wanted_search(), None, "asked once");
    key(&mut f, Char('g'));
    let search = f.wanted_search().expect("the typed text is searched");
    assert_eq!(search.text, "g");
    f.asked(8, search);
    // The answer to the replaced search is dropped; the current one fills the list.
    let page = |names: &[(&str, u128)], more: bool| FoundPage {
        rows: names
            .iter()
            .map(|(n, id)| Found {
                id: Uuid::from_u128(*id),
                value: n.to_string(),
                detail: "pro".into(),
            })
            .collect(),
        next: more.then(|| vec![KeyValue::Text("x".into())]),
    };
    assert!(!f.found(7, Ok(page(&[("Acme", 2)], false))));
    assert!(f.found(8, Ok(page(&[("Globex", 10), ("Gamma", 11)], true))));
    assert!(f.fields[0].choices_current());
    assert_eq!(f.move_choice(true), Moved::Within);
    // Past the last loaded choice: the next page is wanted, from where this one ended.
    let Moved::Wants(more) = f.move_choice(true) else {
        panic!("the next page is wanted")
    };
    assert_eq!(more.after, Some(vec![KeyValue::Text("x".into())]));
    f.asked(9, more);
    assert!(f.found(9, Ok(page(&[("Globex East", 12)], false))));
    assert_eq!(f.fields[0].picker.items.len(), 3, "the page is added");
    assert_eq!(f.move_choice(true), Moved::Within);
    let Dialog::Confirm(c) = f.submit() else {
        panic!()
    };
    // Chosen by id (names need not be unique), shown by name with the id beside it.
    let Request::MoveUser { to, .. } = &c.request else {
        panic!()
    };
    assert_eq!(*to, Uuid::from_u128(12).to_string());
    assert_eq!(
        c.lines[0].new,
        format!("Globex East ({})", Uuid::from_u128(12))
    );
    // Typed text that was never chosen goes as typed.
    let Ok(Dialog::Form(mut f)) = open(Verb::MoveUser, Some(user())) else {
        panic!()
    };
    key(&mut f, Char('Z'));
    key(&mut f, Backspace);
    key(&mut f, Char('Q'));
    assert_eq!(f.fields[0].input.value(), "Q");
    let Dialog::Confirm(c) = f.submit() else {
        panic!()
    };
    assert_eq!(c.lines[0].new, "Q");
}

/// A lookup field still holding the value it opened with marks that value's row when the page
/// shows it, and no row when it does not (Enter keeps the value): the first row once looked
/// chosen while Enter kept another.
#[test]
fn a_prefilled_lookup_marks_only_the_value_it_holds() {
    let page = |names: &[&str]| FoundPage {
        rows: names
            .iter()
            .enumerate()
            .map(|(i, n)| Found {
                id: Uuid::from_u128(i as u128 + 1),
                value: n.to_string(),
                detail: String::new(),
            })
            .collect(),
        next: None,
    };
    for (shown, marked) in [
        (&["Aardvark", "Beta"][..], None),
        (&["Aardvark", "Acme", "Beta"][..], Some(1)),
    ] {
        let mut f = form(open(Verb::MoveUser, Some(user())).unwrap());
        let search = f.wanted_search().expect("a search");
        f.asked(1, search);
        assert!(f.found(1, Ok(page(shown))));
        assert_eq!(f.fields[0].marked(), marked, "{shown:?}");
        // Once a choice is moved to, it is the one marked: the first ↓ marks the first row
        // when none was marked (it once skipped to the second), else the row after the mark.
        f.move_choice(true);
        let expected = marked.map_or(0, |m| m + 1);
        assert_eq!(f.fields[0].marked(), Some(expected), "{shown:?}");
    }
}

/// A refusal from the database is said beside the field whose value it names (a Bolna id
/// already used), else beside the first; a search that was out when the form went to its
/// confirm dialog is asked again.
#[test]
fn a_refusal_goes_beside_the_field_it_names() {
    let Ok(Dialog::Form(mut f)) = open(Verb::AddNumber, None) else {
        panic!()
    };
    type_into(&mut f, 0, "+14155550999");
    type_into(&mut f, 1, "Front desk");
    type_into(&mut f, 2, "bpn_595a0137b57f1891");
    f.refused("the Bolna phone number id bpn_595a0137b57f1891 is already used".into());
    assert_eq!(f.focus, 2);
    assert_eq!(f.field_errors.len(), 1);
    assert_eq!(f.field_errors[0].0, 2);
    f.refused("+14155550999 is already active in another phone number row".into());
    assert_eq!(f.focus, 0);
    f.refused("refused: you may not".into());
    assert_eq!((f.focus, f.field_errors[0].0), (0, 0));
    // Words a reason shares with the message do not move it there: it is the amount's.
    let mut f = form(open(Verb::Deduct, Some(user())).unwrap());
    type_into(&mut f, 0, "1000");
    type_into(&mut f, 1, "the balance");
    f.refused("not enough credits: the balance is 125, the deduction 1,000".into());
    assert_eq!((f.focus, f.field_errors[0].0), (0, 0));

    let mut f = form(open(Verb::MoveUser, Some(user())).unwrap());
    type_into(&mut f, 0, "Zzz Nope");
    let search = f.wanted_search().expect("a search");
    f.asked(4, search);
    assert_eq!(f.wanted_search(), None, "asked once");
    f.refused("no tenant has the name or id Zzz Nope".into());
    assert!(f.wanted_search().is_some(), "the search is asked again");
}

#[test]
fn the_plan_forms_offer_the_plans_of_the_connected_database() {
    let tenant = Target::Tenant(TenantState {
        id: Uuid::from_u128(5),
        name: "Acme".into(),
        plan: "business".into(),
        is_active: true,
    });
    let plans = vec!["free".to_string(), "business".to_string()];
    let f = form(dialog_for(Verb::SetPlan, Some(tenant), &plans).unwrap());
    assert_eq!(f.fields[0].kind, FieldKind::Choice(plans.clone().into()));
    assert_eq!(f.fields[0].value(), "business");
    assert!(f.field_errors().is_empty(), "{:?}", f.field_errors());
    // A new tenant starts on the default plan where it is offered, else on the first.
    let f = form(dialog_for(Verb::CreateTenant, None, &plans).unwrap());
    assert_eq!(f.fields[1].value(), "free");
    let f = form(open(Verb::CreateTenant, None).unwrap());
    assert_eq!(f.fields[1].value(), "pro");
    let FieldKind::Choice(offered) = &f.fields[1].kind else {
        panic!("{:?}", f.fields[1].kind)
    };
    assert_eq!(offered.join(","), "free,starter,pro,enterprise");
    // A plan spelled by the platform in capitals is found and sent as spelled, typed in any
    // case.
    let plans = vec!["free".to_string(), "Business".to_string()];
    let mut f = form(dialog_for(Verb::CreateTenant, None, &plans).unwrap());
    type_into(&mut f, 0, "Globex");
    f.fields[1].set_typed("bus".into());
    let offered: Vec<&str> = f.fields[1]
        .picker
        .items
        .iter()
        .map(|i| i.value.as_str())
        .collect();
    assert_eq!(offered, ["Business"]);
    f.fields[1].set_typed("business".into());
    assert!(f.field_errors().is_empty(), "{:?}", f.field_errors());
    match f.request() {
        Ok(Request::CreateTenant { plan, .. }) => assert_eq!(plan, "Business"),
        other => panic!("{other:?}"),
    }
}
