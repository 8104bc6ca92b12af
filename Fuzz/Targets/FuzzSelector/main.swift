import FuzzSupport

runLibFuzzer(fuzzSelector)
