use super::*;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn lookups_are_spaced_to_two_a_second() {
    let pace = lookup_pace();
    let t0 = Instant::now();
    for _ in 0..5 {
        pace.ready("LookupEvents").await;
    }
    // Four gaps of 550 ms on the paused clock.
    assert_eq!(Instant::now() - t0, LOOKUP_SPACING * 4);
}
