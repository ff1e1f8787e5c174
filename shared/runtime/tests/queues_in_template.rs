//! Every queue the code refers to is declared in template.yaml, with the same FIFO-ness,
//! a dead-letter queue, and the variable that carries its URL.

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
        assert_eq!(template.variable_for(spec.logical_id), Some(spec.env_var));
    }
}
