#!/usr/bin/env python3
"""Checks --chat as a person uses it, in a terminal: the program runs in a
tmux session, two messages are typed (send-keys), and the screen
(capture-pane) must show each message after the "> " prompt and, after
it, the answer the same model gives outside the chat:

- the first answer is the text of a one-shot run (--prompt) on the first
  turn in the chat template;
- the second is that of a run on token ids (--prompt-ids): the first
  turn's, the first answer's, then the second turn's, which proves the
  chat kept the first exchange in its KV cache rather than starting anew.

usage: check-chat.py --program PROG --tfmc TFMC --weights W.gguf
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

TEMPLATE = ("<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n", "\n")
MESSAGES = ["Once upon a time", "Lily"]
N = 24


def run_json(cmd):
    return json.loads(subprocess.run(cmd + ["--json"], capture_output=True,
                                     check=True).stdout)


def tokenize(tfmc, weights, text, bos):
    args = [tfmc, "tokenize", weights] + ([] if bos else ["--no-bos"])
    out = subprocess.run(args, input=text.encode(), capture_output=True,
                         check=True).stdout.decode().split()
    return [int(x) for x in out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--program", required=True)
    ap.add_argument("--tfmc", required=True)
    ap.add_argument("--weights", required=True)
    a = ap.parse_args()
    a.program, a.weights = os.path.abspath(a.program), os.path.abspath(a.weights)
    if not shutil.which("tmux"):
        print("FAIL: tmux is not installed (scripts/setup installs it)")
        return 1
    base = [a.program, "--weights", a.weights, "-n", str(N)]
    before, after, between = TEMPLATE
    # What the chat must answer, from one-shot runs.
    turn1 = before + MESSAGES[0] + after
    first = run_json(base + ["--prompt", turn1])
    ids = tokenize(a.tfmc, a.weights, turn1, True) + first["generated_ids"]
    ids += tokenize(a.tfmc, a.weights, between + before + MESSAGES[1] + after,
                    False)
    second = run_json(base + ["--tokenizer", a.weights, "--prompt-ids",
                              ",".join(map(str, ids))])
    answers = [first["generated_text"], second["generated_text"]]

    session = f"tfm-chat-{os.getpid()}"
    command = " ".join(base + ["--chat", "--chat-template", "chatml"])
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "250",
                    "-y", "60", command + "; sleep 60"], check=True)

    def screen():
        return subprocess.run(["tmux", "capture-pane", "-p", "-J", "-t",
                               session], capture_output=True,
                              check=True).stdout.decode()

    def wait_for_prompts(count):
        deadline = time.time() + 60
        while time.time() < deadline:
            if sum(line.startswith("> ") or line == ">"
                   for line in screen().split("\n")) >= count:
                return True
            time.sleep(0.2)
        return False

    failures = []
    try:
        for i, message in enumerate(MESSAGES):
            if not wait_for_prompts(i + 1):
                failures.append(f"no prompt for message {i + 1}:\n{screen()}")
                break
            subprocess.run(["tmux", "send-keys", "-t", session, message,
                            "Enter"], check=True)
        if not failures and not wait_for_prompts(len(MESSAGES) + 1):
            failures.append(f"no prompt after the last answer:\n{screen()}")
        shown = screen()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session])
    if not failures:
        lines = [line.rstrip() for line in shown.split("\n")]
        start = next(i for i, l in enumerate(lines) if l.startswith("> "))
        got = "\n".join(lines[start:]).rstrip()
        want = "\n".join(line.rstrip() for line in
                         (f"> {MESSAGES[0]}\n{answers[0]}\n> {MESSAGES[1]}\n"
                          f"{answers[1]}\n>").split("\n"))
        if got != want:
            failures.append(f"the screen shows\n{got}\n--- expected\n{want}")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print(f"PASS: two messages typed, two answers shown as one-shot runs "
          f"give them ({len(answers[0])} and {len(answers[1])} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
