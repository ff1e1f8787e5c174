//! Every queue the code refers to is declared in template.yaml, with the same FIFO-ness,
//! a dead-letter queue, and, wherever a function is given its URL, the variable the code
//! reads it from.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_localstack::{repository_template_path, Template};
use hiresync_runtime::queues::QUEUES;

#[test]
fn every_queue_the_code_uses_is_in_the_template() {
    let template = Template::load(&repository_template_path()).unwrap();
    for spec in QUEUES {
        let queue = template
            .queue(spec.logical_id)
            .unwrap_or_else(|| panic!("{} is not a queue in template.yaml", spec.logical_id));
        assert_eq!(queue.fifo, spec.fifo, "{} FIFO", spec.logical_id);
        assert!(
            queue.redrive.is_some(),
            "{} has no dead-letter queue",
            spec.logical_id
        );
        // A queue no function sends to yet (bookings, the InMail outbox) is given to
        // none; one that is, is given under the variable the code reads.
        if let Some(variable) = template.variable_for(spec.logical_id) {
            assert_eq!(variable, spec.env_var, "{} URL variable", spec.logical_id);
        }
        for (name, binding) in template.all_variables() {
            if name == spec.env_var {
                assert_eq!(
                    binding,
                    &hiresync_localstack::template::Binding::Resource(spec.logical_id.into()),
                    "{name} must carry {}",
                    spec.logical_id
                );
            }
        }
    }
}
