use rocket::http::{ContentType, Status};

use crate::common::{app, app_with, location, logged_in, workspace};

#[tokio::test]
async fn protected_pages_send_anonymous_visitors_to_login_with_next() {
    let app = app().await;
    for (path, next) in [
        ("/secrets", "%2Fsecrets"),
        ("/download", "%2Fdownload"),
        ("/download?x=1", "%2Fdownload%3Fx%3D1"),
    ] {
        let response = app.client.get(path).dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "{path}");
        assert_eq!(
            location(&response),
            Some(format!("/login?next={next}").as_str())
        );
    }
    let html = app.page("/login?next=%2Fsecrets").await;
    assert!(html.contains("Please log in to see this page."));
    // minijinja escapes "/" in attribute values; browsers decode it.
    assert!(html.contains(r#"name="next" value="&#x2f;secrets""#));
}

#[tokio::test]
async fn the_secrets_page_greets_the_user() {
    let app = logged_in("Ada Lovelace").await;
    let html = app.page("/secrets").await;
    assert!(html.contains("Welcome, Ada Lovelace"));
    assert!(html.contains(r#"href="/download""#));
}

#[tokio::test]
async fn a_script_in_a_name_is_shown_as_text() {
    let app = app().await;
    let name = r#"<script>alert("x")</script>"#;
    app.register("ada@example.com", name, "analytical engine")
        .await;
    for page in ["/secrets", "/", "/logout"] {
        let (_, html) = app.get(page).await;
        assert!(!html.contains("<script>"), "{page} has a raw script tag");
        assert!(
            html.contains("&lt;script&gt;"),
            "{page} shows the name escaped"
        );
    }
}

#[tokio::test]
async fn the_download_is_the_pdf_as_an_attachment() {
    let app = logged_in("Ada").await;
    let response = app.client.get("/download").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::PDF));
    assert_eq!(
        response.headers().get_one("Content-Disposition"),
        Some(r#"attachment; filename="cheat_sheet.pdf""#)
    );
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("no-store")
    );
    let body = response.into_bytes().await.unwrap();
    assert!(body.starts_with(b"%PDF-"));
    assert_eq!(
        body,
        std::fs::read(workspace().join("files/cheat_sheet.pdf")).unwrap()
    );
}

#[tokio::test]
async fn the_protected_file_is_not_reachable_any_other_way() {
    let app = logged_in("Ada").await;
    for path in [
        "/static/cheat_sheet.pdf",
        "/static/files/cheat_sheet.pdf",
        "/static/../files/cheat_sheet.pdf",
        "/static/%2E%2E/files/cheat_sheet.pdf",
        "/files/cheat_sheet.pdf",
        "/cheat_sheet.pdf",
    ] {
        let (status, _) = app.get(path).await;
        assert_eq!(status, Status::NotFound, "{path}");
    }
    assert_eq!(app.get("/static/style.css").await.0, Status::Ok);
}

#[tokio::test]
async fn a_missing_protected_file_is_a_500_page_that_hides_the_cause() {
    let empty = tempfile::tempdir().unwrap();
    let files = empty.path().to_owned();
    let app = app_with(tempfile::tempdir().unwrap(), move |f| {
        f.merge(("files_dir", files))
    })
    .await;
    app.register_ada().await;
    let (status, html) = app.get("/download").await;
    assert_eq!(status, Status::InternalServerError);
    assert!(html.contains("Something went wrong"));
    assert!(!html.contains("cheat_sheet.pdf"), "no path in the page");
    assert!(!html.contains(&empty.path().display().to_string()));
}

#[tokio::test]
async fn a_login_that_began_at_the_download_lands_on_the_members_page_and_starts_it() {
    let app = logged_in("Ada").await;
    let fields = [
        ("email", "ada@example.com"),
        ("password", "analytical engine"),
        ("next", "/download"),
    ];
    let response = app.post("/login", "/login?next=%2Fdownload", &fields).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/secrets?download=true"));
    let html = app.page("/secrets?download=true").await;
    assert!(
        html.contains(r#"<meta http-equiv="refresh" content="0; url=/download">"#),
        "{html}"
    );
    assert!(html.contains("Your download of the cheat sheet has started."));
    assert!(html.contains("Welcome, Ada"));

    let plain = app.page("/secrets").await;
    assert!(!plain.contains("http-equiv=\"refresh\""), "only when asked");
    assert!(
        plain.contains("<title>Members only · Secrets</title>"),
        "{plain}"
    );
    let other = [("next", "/account"), fields[0], fields[1]];
    let response = app.post("/login", "/login?next=%2Faccount", &other).await;
    assert_eq!(
        location(&response),
        Some("/account"),
        "other pages are landed on"
    );
}
