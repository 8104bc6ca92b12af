import FuzzSupport

runLibFuzzer(fuzzAgentReport)
