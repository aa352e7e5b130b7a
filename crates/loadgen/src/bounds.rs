//! Every load is bounded twice: by a number of requests and by a duration.

use std::time::Duration;

use crate::LoadError;

/// The most requests one load may send.
pub const MAX_REQUESTS: u64 = 10_000_000;
/// The longest one load may last.
pub const MAX_DURATION: Duration = Duration::from_secs(600);

/// A request count and a duration, both required; whichever is reached
/// first ends the load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    max_requests: u64,
    max_duration: Duration,
}

impl Bounds {
    /// Both bounds must be non-zero and within [`MAX_REQUESTS`] and [`MAX_DURATION`].
    pub fn new(
        max_requests: u64,
        max_duration: Duration,
    ) -> Result<Bounds, LoadError> {
        if max_requests == 0 || max_requests > MAX_REQUESTS {
            return Err(LoadError::Bounds(format!(
                "request count {max_requests} is not in 1..={MAX_REQUESTS}"
            )));
        }
        if max_duration.is_zero() || max_duration > MAX_DURATION {
            return Err(LoadError::Bounds(format!(
                "duration {max_duration:?} is not in (0, {MAX_DURATION:?}]"
            )));
        }
        Ok(Bounds {
            max_requests,
            max_duration,
        })
    }

    /// At most this many requests are sent.
    pub fn max_requests(&self) -> u64 {
        self.max_requests
    }

    /// No request is started after this much time.
    pub fn max_duration(&self) -> Duration {
        self.max_duration
    }
}

/// An open-loop schedule: request `i` is due `i / rate` seconds after the start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    rate: f64,
}

impl Schedule {
    /// `rate` requests per second, finite and positive.
    pub fn new(rate: f64) -> Result<Schedule, LoadError> {
        if rate.is_finite() && rate > 0.0 {
            Ok(Schedule { rate })
        } else {
            Err(LoadError::Rate(rate))
        }
    }

    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// When request `i` is due, from the start. Computed from `i`, not by
    /// adding intervals, so rounding does not accumulate.
    pub fn due(&self, i: u64) -> Duration {
        Duration::from_secs_f64(i as f64 / self.rate)
    }

    /// How many requests the schedule holds within `bounds`: those due
    /// strictly before the duration ends, at most the request count.
    pub fn len(&self, bounds: &Bounds) -> u64 {
        let in_time =
            (bounds.max_duration().as_secs_f64() * self.rate).ceil() as u64;
        // `ceil` can count one due exactly at the end; the end is excluded.
        let in_time =
            if in_time > 0 && self.due(in_time - 1) >= bounds.max_duration() {
                in_time - 1
            } else {
                in_time
            };
        in_time.min(bounds.max_requests())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bounds_are_required_and_capped() {
        assert!(Bounds::new(1, Duration::from_millis(1)).is_ok());
        for (n, d) in [
            (0, Duration::from_secs(1)),
            (1, Duration::ZERO),
            (MAX_REQUESTS + 1, Duration::from_secs(1)),
            (1, MAX_DURATION + Duration::from_nanos(1)),
        ] {
            let e = Bounds::new(n, d).unwrap_err();
            assert!(matches!(e, LoadError::Bounds(_)), "{n} {d:?}: {e}");
        }
    }

    #[test]
    fn the_schedule_is_evenly_spaced_from_the_start() {
        let s = Schedule::new(20_000.0).unwrap();
        assert_eq!(s.due(0), Duration::ZERO);
        assert_eq!(s.due(1), Duration::from_micros(50));
        assert_eq!(s.due(20_000), Duration::from_secs(1));
        // No drift after many intervals.
        assert_eq!(s.due(2_000_000), Duration::from_secs(100));
    }

    #[test]
    fn the_schedule_stops_at_whichever_bound_comes_first() {
        let s = Schedule::new(1000.0).unwrap();
        // 1 s at 1000/s: requests 0..=999 are due before the end.
        assert_eq!(
            s.len(&Bounds::new(5000, Duration::from_secs(1)).unwrap()),
            1000
        );
        assert_eq!(s.len(&Bounds::new(10, Duration::from_secs(1)).unwrap()), 10);
        let slow = Schedule::new(3.0).unwrap();
        assert_eq!(
            slow.len(&Bounds::new(100, Duration::from_secs(1)).unwrap()),
            3
        );
    }

    #[test]
    fn a_rate_must_be_positive_and_finite() {
        for r in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(Schedule::new(r), Err(LoadError::Rate(_))));
        }
    }
}
