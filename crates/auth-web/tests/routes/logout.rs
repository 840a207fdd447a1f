use rocket::http::Status;

use crate::common::{app, location, logged_in};

#[tokio::test]
async fn get_logout_shows_a_button_and_changes_nothing() {
    let app = logged_in("Ada").await;
    let html = app.page("/logout").await;
    assert!(html.contains(r#"<form method="post" action="/logout">"#));
    assert_eq!(app.get("/secrets").await.0, Status::Ok, "still logged in");
}

#[tokio::test]
async fn logout_ends_the_session_even_for_a_copied_cookie() {
    let app = logged_in("Ada").await;
    let copied = app.session_cookie().expect("a session cookie");
    assert_eq!(app.replay("/secrets", copied.clone()).await, Status::Ok);

    let response = app.logout().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/"));
    let (_, home) = app.get("/").await;
    assert!(home.contains("You have been logged out."));
    assert!(home.contains(r#"href="/login""#));

    assert_eq!(app.get("/secrets").await.0, Status::SeeOther);
    assert_eq!(
        app.replay("/secrets", copied.clone()).await,
        Status::SeeOther
    );
    assert_eq!(app.replay("/download", copied).await, Status::SeeOther);
}

#[tokio::test]
async fn logout_without_a_session_is_harmless() {
    let app = app().await;
    let response = app.logout().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/"));
}
