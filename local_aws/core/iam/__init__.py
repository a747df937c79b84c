"""IAM as AWS applies it: who calls (credentials), what a call needs (rules, per AWS service), whether the
caller's policies allow it (authorization, policy_evaluation)."""
