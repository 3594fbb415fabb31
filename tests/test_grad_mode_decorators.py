"""no_grad / enable_grad / set_grad_enabled / inference_mode as decorators, as PyTorch 2.13 has
them: bare (`@no_grad`) or called (`@no_grad()`), and on generator functions, whose steps run in
the mode while the caller keeps its own between them. Expected values printed by PyTorch."""

import pytest
import tapegrad as tg


def test_bare_decorators():
    @tg.no_grad
    def f(x):
        return (x * 2).requires_grad, tg.is_grad_enabled()

    assert f(tg.ones(2, requires_grad=True)) == (False, False)
    with tg.no_grad():

        @tg.enable_grad
        def h():
            return tg.is_grad_enabled()

        assert h() is True
        assert tg.is_grad_enabled() is False

    @tg.inference_mode
    def im():
        return tg.is_grad_enabled(), tg.is_inference_mode_enabled()

    assert im() == (False, True)

    @tg.inference_mode(False)
    def im2():
        return tg.is_grad_enabled()

    assert im2() is True


def test_generator_steps_run_in_the_mode():
    seen = []

    @tg.no_grad()
    def g():
        for _ in range(2):
            sent = yield tg.is_grad_enabled()
            seen.append((sent, tg.is_grad_enabled()))
        return "done"

    gen = g()
    assert next(gen) is False
    assert tg.is_grad_enabled() is True  # the caller's mode while suspended
    assert gen.send(5) is False
    with pytest.raises(StopIteration) as stop:
        gen.send(6)
    assert stop.value.value == "done"
    assert seen == [(5, False), (6, False)]
    assert tg.is_grad_enabled() is True

    with tg.no_grad():

        @tg.enable_grad()
        def on():
            yield tg.is_grad_enabled()

        assert list(on()) == [True]
        assert tg.is_grad_enabled() is False

    @tg.set_grad_enabled(False)
    def off():
        yield tg.is_grad_enabled()

    assert list(off()) == [False]
    assert tg.is_grad_enabled() is True


def test_generator_throw_and_close():
    @tg.no_grad()
    def g():
        try:
            yield 1
        except ValueError:
            yield ("caught", tg.is_grad_enabled())

    gen = g()
    next(gen)
    assert gen.throw(ValueError("x")) == ("caught", False)
    gen.close()
    assert tg.is_grad_enabled() is True
