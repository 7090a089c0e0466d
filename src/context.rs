//! App-wide state, provided once by the shell and read with `expect_context::<AppContext>()`.

use chrono::NaiveDate;
use leptos::prelude::*;

use crate::storage::{Repository, StorageError};

/// Key of the site profile in the settings store.
pub const PROFILE_KEY: &str = "site_profile";

pub use assiette_tablet::profile::SiteProfile;

#[derive(Clone, Copy)]
pub struct AppContext {
    /// The open repository; `None` until opened (or when opening failed: see `storage_error`).
    pub repo: RwSignal<Option<Repository>, LocalStorage>,
    /// A blocking storage problem, in French; the shell shows it over everything.
    pub storage_error: RwSignal<Option<String>>,
    /// Entries saved here and not yet acknowledged by the server.
    pub outbox_len: RwSignal<u32>,
    /// Whether the browser granted persistent storage (`None` while asking).
    pub persisted: RwSignal<Option<bool>>,
    /// Last successful sync (RFC 3339), if any.
    pub last_sync: RwSignal<Option<String>>,
    /// A new version of the app is installed and waiting.
    pub update_available: RwSignal<bool>,
    pub profile: RwSignal<Option<SiteProfile>>,
    /// Bumped after every write so lists and charts re-read.
    pub data_version: RwSignal<u64>,
    /// The service date being worked on (Today screen), shared with History's "corriger".
    pub service_date: RwSignal<NaiveDate>,
    /// Stored rows the screen just read that could not be read as their type (skipped).
    pub unreadable: RwSignal<u32>,
}

impl AppContext {
    pub fn repo(&self) -> Option<Repository> {
        self.repo.get_untracked()
    }

    /// Call after any successful write: refreshes the outbox count and every reader, here and
    /// in the app's other windows.
    pub fn after_write(&self) {
        WRITES.with(|c| {
            if let Some(c) = c {
                let _ = c.post_message(&wasm_bindgen::JsValue::NULL);
            }
        });
        self.data_version.update(|v| *v += 1);
        crate::sync::dispatch(crate::sync::machine::Event::Saved);
        let ctx = *self;
        leptos::task::spawn_local(async move { ctx.refresh_outbox().await });
    }

    pub async fn refresh_outbox(&self) {
        if let Some(repo) = self.repo() {
            match repo.outbox_len().await {
                Ok(n) => self.outbox_len.set(n),
                Err(e) => self.report(e),
            }
        }
    }

    /// Tells the person that the screen's last read skipped `n` unreadable rows (0: none).
    pub fn note_unreadable(&self, n: u32) {
        if self.unreadable.get_untracked() != n {
            self.unreadable.set(n);
        }
    }

    /// Surfaces a storage error that blocks further work.
    pub fn report(&self, e: StorageError) {
        self.storage_error.set(Some(e.message_fr()));
    }
}

thread_local! {
    /// Tells the app's other windows that something was written (a channel never delivers
    /// to its own sender).
    static WRITES: Option<web_sys::BroadcastChannel> = web_sys::BroadcastChannel::new("assiette-writes").ok();
}

/// Re-reads when another window of the app wrote, and when this one comes back to the
/// front: what a screen shows is never older than what another window saved.
pub fn follow_other_windows(ctx: AppContext) {
    use wasm_bindgen::JsCast;
    let refresh = move || {
        ctx.data_version.update(|v| *v += 1);
        leptos::task::spawn_local(async move { ctx.refresh_outbox().await });
    };
    let on_message = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(refresh);
    WRITES.with(|c| {
        if let Some(c) = c {
            c.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        }
    });
    on_message.forget();
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        let doc = document.clone();
        let on_visible = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            if doc.visibility_state() == web_sys::VisibilityState::Visible {
                refresh();
            }
        });
        let _ = document.add_event_listener_with_callback("visibilitychange", on_visible.as_ref().unchecked_ref());
        on_visible.forget();
    }
}

/// What a page reads from storage: `None` until the first read ends, then the latest read's
/// result. `read` runs again whenever a signal it reads (before returning its future) changes,
/// as a LocalResource's fetcher does; a read that ends after a newer one started is dropped.
/// LocalResource would also bring Suspense and transitions, which no page uses: this costs the
/// tablet less code per page.
pub fn stored<T: 'static, F: std::future::Future<Output = Option<T>> + 'static>(
    read: impl Fn() -> F + 'static,
) -> ReadSignal<Option<T>, LocalStorage> {
    let (value, set_value) = signal_local(None);
    let latest = std::rc::Rc::new(std::cell::Cell::new(0u64));
    Effect::new(move |_| {
        let reading = read();
        let this = latest.get() + 1;
        latest.set(this);
        let latest = latest.clone();
        leptos::task::spawn_local(async move {
            let result = reading.await;
            if latest.get() == this {
                // The page may be gone by now: then there is nobody to tell.
                let _ = set_value.try_set(result);
            }
        });
    });
    value
}

pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Resolves after `ms` milliseconds (a browser timer).
    async fn sleep(ms: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }

    #[wasm_bindgen_test]
    async fn stored_reads_again_when_its_signals_change_and_keeps_the_latest_read_only() {
        let _ = any_spawner::Executor::init_wasm_bindgen();
        let owner = Owner::new();
        owner.set();
        let key = RwSignal::new(1u32);
        let reads = RwSignal::new(0u32);
        // Key 2 is read slowly: it ends after key 3, which was asked for later.
        let value = stored(move || {
            let k = key.get();
            reads.update_untracked(|n| *n += 1);
            async move {
                sleep(if k == 2 { 120 } else { 5 }).await;
                (k != 4).then_some(k * 10)
            }
        });
        assert_eq!(value.get_untracked(), None, "nothing before the first read ends");
        sleep(60).await;
        assert_eq!(value.get_untracked(), Some(10));
        key.set(2);
        sleep(20).await;
        key.set(3);
        sleep(250).await;
        assert_eq!(value.get_untracked(), Some(30), "the slow, older read of key 2 is dropped");
        assert_eq!(reads.get_untracked(), 3);
        // A read that finds nothing says so.
        key.set(4);
        sleep(60).await;
        assert_eq!(value.get_untracked(), None);
    }
}
