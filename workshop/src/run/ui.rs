//! How the runner talks to the learner: text or JSON lines, prompts (dialoguer) only when
//! interactive, spinners (indicatif) with elapsed time for long waits that the learner can
//! skip with Enter, and a terminal that is always given back intact.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::checks::{Crit, CritStatus};

pub struct Ui {
    pub interactive: bool,
    pub json: bool,
}

/// What the learner chose for a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    DoIt,
    Myself,
    Skip,
    Quit,
}

/// The learner pressed Ctrl-C at a prompt.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

impl Ui {
    /// Human text (stdout in text mode; nothing in JSON mode, whose stdout is JSON only).
    pub fn say(&self, text: impl AsRef<str>) {
        if !self.json {
            println!("{}", text.as_ref());
        }
    }

    /// A notice that matters in both modes (stderr in JSON mode).
    pub fn note(&self, text: impl AsRef<str>) {
        if self.json {
            eprintln!("{}", text.as_ref());
        } else {
            println!("{}", text.as_ref());
        }
    }

    pub fn json_line(&self, v: &serde_json::Value) {
        if self.json {
            println!("{v}");
            let _ = std::io::stdout().flush();
        }
    }

    pub fn heading(&self, n: usize, total: usize, title: &str) {
        self.say(format!(
            "\n{}",
            console::style(format!("Step {n}/{total}: {title}")).bold()
        ));
    }

    pub fn checklist(&self, crits: &[Crit]) {
        for c in crits {
            let mark = match c.status {
                CritStatus::Passed => console::style("✔").green(),
                CritStatus::Failed => console::style("✘").red(),
                CritStatus::Error => console::style("!").yellow(),
            };
            self.say(format!("  {mark} {} — {}", c.text, c.reason));
        }
    }

    /// Ask what to do with a step (interactive only).
    pub fn choose(&self, can_do: bool) -> Result<Choice, Interrupted> {
        let mut items = Vec::new();
        let mut map = Vec::new();
        if can_do {
            items.push("Do it for me");
            map.push(Choice::DoIt);
        }
        items.push("I'll do it myself (in another terminal), then verify");
        map.push(Choice::Myself);
        items.push("Skip this step");
        map.push(Choice::Skip);
        items.push("Save progress and quit");
        map.push(Choice::Quit);
        let pick = dialoguer::Select::new()
            .with_prompt("What now?")
            .items(&items)
            .default(0)
            .interact_opt()
            .map_err(|_| Interrupted)?;
        match pick {
            Some(i) => Ok(map.get(i).copied().unwrap_or(Choice::Quit)),
            None => Ok(Choice::Quit),
        }
    }

    pub fn confirm(&self, prompt: &str, default: bool) -> Result<bool, Interrupted> {
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(default)
            .interact_opt()
            .map_err(|_| Interrupted)
            .map(|a| a.unwrap_or(false))
    }

    pub fn input(
        &self,
        prompt: &str,
        initial: Option<&str>,
        check: impl Fn(&String) -> Result<(), String>,
    ) -> Result<String, Interrupted> {
        let mut i = dialoguer::Input::<String>::new()
            .with_prompt(prompt)
            .validate_with(|s: &String| check(s));
        if let Some(v) = initial {
            i = i.with_initial_text(v);
        }
        i.interact_text().map_err(|_| Interrupted)
    }

    /// Run `fut` while a spinner shows `what` and the elapsed time; interactively, Enter skips
    /// the wait (`None`).
    pub async fn wait<T>(&self, what: &str, fut: impl Future<Output = T>) -> Option<T> {
        let started = Instant::now();
        let tty = std::io::stderr().is_terminal() && !self.json;
        let bar = if tty {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            let hint = if self.interactive {
                " — Enter to skip"
            } else {
                ""
            };
            b.set_message(format!("{what}{hint}"));
            b.enable_steady_tick(Duration::from_millis(120));
            Some(b)
        } else {
            if !self.json {
                println!("  … {what}");
            }
            None
        };
        let out = if self.interactive && std::io::stdin().is_terminal() {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let reader = std::thread::spawn({
                let stop = stop.clone();
                move || skip_on_enter(&stop, tx)
            });
            let out = tokio::select! {
                v = fut => Some(v),
                _ = rx => None,
            };
            // The reader polls, so it ends without swallowing the next prompt's input.
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = reader.join();
            out
        } else {
            Some(fut.await)
        };
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let took = started.elapsed();
        match &out {
            Some(_) => self.say(format!("  {what}: done after {:.1} s", took.as_secs_f64())),
            None => self.say(format!(
                "  {what}: skipped after {:.1} s",
                took.as_secs_f64()
            )),
        }
        out
    }
}

/// Wait for a line on stdin (Enter) without blocking in `read`: poll every 100 ms, so the
/// thread ends as soon as `stop` is set and a prompt that follows gets every keystroke.
fn skip_on_enter(stop: &std::sync::atomic::AtomicBool, tx: tokio::sync::oneshot::Sender<()>) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let stdin = std::io::stdin();
    let tick = Timespec {
        tv_sec: 0,
        tv_nsec: 100_000_000,
    };
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
        match poll(&mut fds, Some(&tick)) {
            Ok(n) if n > 0 => {
                let mut line = String::new();
                let _ = stdin.read_line(&mut line);
                let _ = tx.send(());
                return;
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// Give the terminal back: visible cursor, line mode.
pub fn restore_terminal() {
    let term = console::Term::stderr();
    let _ = term.show_cursor();
    let _ = console::Term::stdout().show_cursor();
}
