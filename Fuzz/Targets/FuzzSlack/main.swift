import FuzzSupport

runLibFuzzer(fuzzSlack)
