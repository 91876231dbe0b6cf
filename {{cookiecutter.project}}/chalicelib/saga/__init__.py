"""The order saga: Step Functions task functions and the state machine's ASL."""
